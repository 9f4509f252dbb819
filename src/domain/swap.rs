//! A swap (换班): a member offers a duty to a named colleague or to the pool; a colleague
//! accepts; a coordinator approves or rejects (or the committee approves at once). Pure
//! rules; `roster::swaps` stores and serves them.

text_enum! {
    /// Where a swap request stands: `offered → accepted → approved`, or `rejected` /
    /// `cancelled` while still open.
    SwapStatus {
        Offered = "offered",
        Accepted = "accepted",
        Approved = "approved",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// What can be done to a swap request.
    SwapAction { Accept = "accept", Approve = "approve", Reject = "reject", Cancel = "cancel" }
}

impl SwapStatus {
    /// The states in which a request still holds its duty: one open request per duty.
    pub const OPEN: [SwapStatus; 2] = [SwapStatus::Offered, SwapStatus::Accepted];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SwapStatus::Offered => "等待同事接受",
            SwapStatus::Accepted => "同事已接受，等待联络员审批",
            SwapStatus::Approved => "已生效",
            SwapStatus::Rejected => "未获批准",
            SwapStatus::Cancelled => "已撤回",
        }
    }
}

impl SwapAction {
    /// The state after the action, or `None` when the current state does not allow it.
    pub fn next_status(self, from: SwapStatus) -> Option<SwapStatus> {
        use SwapStatus::*;
        match (self, from) {
            (SwapAction::Accept, Offered) => Some(Accepted),
            (SwapAction::Approve, Accepted) => Some(Approved),
            (SwapAction::Reject, Offered | Accepted) => Some(Rejected),
            (SwapAction::Cancel, Offered | Accepted) => Some(Cancelled),
            _ => None,
        }
    }

    /// Approving and rejecting are a coordinator's; accepting and cancelling the colleagues'.
    pub fn is_coordinators(self) -> bool {
        matches!(self, SwapAction::Approve | SwapAction::Reject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_requests_move_and_approval_needs_acceptance() {
        for &action in SwapAction::ALL {
            for &from in SwapStatus::ALL {
                let next = action.next_status(from);
                if !from.is_open() {
                    assert_eq!(next, None, "{action:?} from {from:?}");
                }
            }
        }
        assert_eq!(SwapAction::Approve.next_status(SwapStatus::Offered), None);
        assert_eq!(SwapAction::Accept.next_status(SwapStatus::Accepted), None);
        assert_eq!(SwapAction::Approve.next_status(SwapStatus::Accepted), Some(SwapStatus::Approved));
    }

    #[test]
    fn stored_text_round_trips() {
        for &status in SwapStatus::ALL {
            assert_eq!(SwapStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SwapStatus::parse("approved "), None);
    }
}
