//! Leave (请假): a member asks for a range of days; a coordinator approves or rejects; the
//! member may withdraw while it is pending. Pure rules; `roster::leave` stores and serves them.

text_enum! {
    /// Where a leave request stands: `pending`, then `approved`, `rejected` or `cancelled`.
    LeaveStatus { Pending = "pending", Approved = "approved", Rejected = "rejected", Cancelled = "cancelled" }
}

text_enum! {
    /// What can be done to a leave request.
    LeaveAction { Approve = "approve", Reject = "reject", Cancel = "cancel" }
}

/// The longest leave one request may ask for, in days (a quarter).
pub const MAX_LEAVE_DAYS: i64 = 93;

impl LeaveStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            LeaveStatus::Pending => "等待审批",
            LeaveStatus::Approved => "已批准",
            LeaveStatus::Rejected => "未获批准",
            LeaveStatus::Cancelled => "已撤回",
        }
    }
}

impl LeaveAction {
    /// The state after the action, or `None` when the current state does not allow it. Only a
    /// pending request moves: approved leave is withdrawn through the office.
    pub fn next_status(self, from: LeaveStatus) -> Option<LeaveStatus> {
        match (self, from) {
            (LeaveAction::Approve, LeaveStatus::Pending) => Some(LeaveStatus::Approved),
            (LeaveAction::Reject, LeaveStatus::Pending) => Some(LeaveStatus::Rejected),
            (LeaveAction::Cancel, LeaveStatus::Pending) => Some(LeaveStatus::Cancelled),
            _ => None,
        }
    }

    pub fn is_coordinators(self) -> bool {
        matches!(self, LeaveAction::Approve | LeaveAction::Reject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_leave_moves() {
        for &action in LeaveAction::ALL {
            for &from in LeaveStatus::ALL {
                assert_eq!(action.next_status(from).is_some(), from == LeaveStatus::Pending, "{action:?} {from:?}");
            }
        }
    }
}
