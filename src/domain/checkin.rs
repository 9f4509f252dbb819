//! How a check-in was made, and how far it proves the member was there.

text_enum! {
    /// The venue display's rotating code, the printed poster's code, or a coordinator's entry.
    CheckinMethod { Display = "display", Poster = "poster", Manual = "manual" }
}

text_enum! {
    /// `high`: a rotating code read live, within its step; `low`: the poster's fixed code inside
    /// the venue's geofence, or any scan uploaded from the phone's offline queue (its scan time
    /// is the phone's word); `manual`: entered by a coordinator with a reason.
    Assurance { High = "high", Low = "low", Manual = "manual" }
}

text_enum! {
    /// A coordinator's review of a check-in uploaded offline, which cannot prove by itself that
    /// the member was there: `pending` until a coordinator of the venue confirms or refuses it.
    /// A refused check-in no longer counts: the duty is attended as if nobody had scanned.
    CheckinReview { Pending = "pending", Confirmed = "confirmed", Refused = "refused" }
}

impl CheckinReview {
    /// The review a coordinator's decision leads to, from `self`; `None` once decided.
    pub fn decide(self, confirm: bool) -> Option<CheckinReview> {
        match self {
            CheckinReview::Pending if confirm => Some(CheckinReview::Confirmed),
            CheckinReview::Pending => Some(CheckinReview::Refused),
            CheckinReview::Confirmed | CheckinReview::Refused => None,
        }
    }

    /// Whether a check-in under this review (none: a live or manual one) counts as attended.
    pub fn counts(review: Option<CheckinReview>) -> bool {
        review != Some(CheckinReview::Refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_decided_once() {
        assert_eq!(CheckinReview::Pending.decide(true), Some(CheckinReview::Confirmed));
        assert_eq!(CheckinReview::Pending.decide(false), Some(CheckinReview::Refused));
        assert_eq!(CheckinReview::Confirmed.decide(false), None);
        assert_eq!(CheckinReview::Refused.decide(true), None);
        assert!(CheckinReview::counts(None) && CheckinReview::counts(Some(CheckinReview::Pending)));
        assert!(!CheckinReview::counts(Some(CheckinReview::Refused)));
    }
}
