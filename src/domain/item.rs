//! Residents' items (社情民意 / 咨询): kinds, the four tiers, the state machine and the
//! tracking code. Pure rules; the `items` capability stores and serves them.

use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;

/// The topics offered when an item is written down (the resident's form, a member recording).
pub const ITEM_TOPICS: &[&str] =
    &["就业社保", "教育", "医疗卫生", "交通出行", "环境卫生", "社会治安", "农业农村", "城乡建设", "养老托育", "其他"];

text_enum! {
    /// What a resident raised: a question to answer or an issue to handle.
    ItemKind { Consultation = "consultation", Opinion = "opinion" }
}

text_enum! {
    /// Where an item's life stands. `received → triaged → referred → replied → closed`, and
    /// `reopened` when a resident (once) or a coordinator is not satisfied.
    ItemState {
        Received = "received",
        Triaged = "triaged",
        Referred = "referred",
        Replied = "replied",
        Closed = "closed",
        Reopened = "reopened",
    }
}

text_enum! {
    /// Where an item came from: a resident's QR form, or a member recording it at reception.
    ItemSource { Resident = "resident", Member = "member" }
}

text_enum! {
    /// Where an item's deadline stands: none running, on track, due within two days, overdue.
    DeadlineStatus { None = "none", OnTrack = "on_track", DueSoon = "due_soon", Overdue = "overdue" }
}

text_enum! {
    /// 重要性: 一般, 重要, 重大.
    Importance { Normal = "normal", Important = "important", Major = "major" }
}

text_enum! {
    /// 难易: 易, 中, 难.
    Difficulty { Easy = "easy", Moderate = "moderate", Hard = "hard" }
}

text_enum! {
    /// How a closed item ended.
    Resolution {
        Resolved = "resolved",
        Answered = "answered",
        NotActionable = "not_actionable",
        Duplicate = "duplicate",
        Merged = "merged",
    }
}

text_enum! {
    /// The resident's rating of the answer.
    Satisfaction { Satisfied = "satisfied", PartlySatisfied = "partly_satisfied", Unsatisfied = "unsatisfied" }
}

impl ItemKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemKind::Consultation => "咨询",
            ItemKind::Opinion => "社情民意",
        }
    }
}

impl ItemState {
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemState::Received => "已收到",
            ItemState::Triaged => "已分类",
            ItemState::Referred => "已转交办理",
            ItemState::Replied => "已答复",
            ItemState::Closed => "已办结",
            ItemState::Reopened => "已重新办理",
        }
    }

    /// Whether the item still waits for an answer, so its deadline runs.
    pub fn awaits_answer(self) -> bool {
        matches!(self, ItemState::Received | ItemState::Triaged | ItemState::Referred | ItemState::Reopened)
    }
}

impl Satisfaction {
    pub fn label_zh(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::PartlySatisfied => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
        }
    }
}

impl Resolution {
    pub fn label_zh(self) -> &'static str {
        match self {
            Resolution::Resolved => "已解决",
            Resolution::Answered => "已解答",
            Resolution::NotActionable => "暂不具备办理条件",
            Resolution::Duplicate => "重复反映",
            Resolution::Merged => "已合并办理",
        }
    }

    /// Closings that need no answer first (the item is not taken up on its own).
    pub fn needs_no_answer(self) -> bool {
        matches!(self, Resolution::NotActionable | Resolution::Duplicate | Resolution::Merged)
    }
}

/// One of the four handling classes (分级处置), 1 = answer on the spot … 4 = report up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Integer)]
pub struct Tier(u8);

impl Tier {
    pub fn new(n: i64) -> Result<Self, Invalid> {
        if (1..=4).contains(&n) {
            Ok(Self(n as u8))
        } else {
            Err(Invalid::new("out_of_range", "a tier is 1, 2, 3 or 4"))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub const ALL: [Tier; 4] = [Tier(1), Tier(2), Tier(3), Tier(4)];

    /// 即办, 交办, 督办, 专报.
    pub fn label_zh(self) -> &'static str {
        ["即办", "交办", "督办", "专报"][usize::from(self.0 - 1)]
    }

    /// 一级 · 即办 … 四级 · 专报: with its number, as the console heads its columns.
    pub fn numbered_label_zh(self) -> &'static str {
        ["一级 · 即办", "二级 · 交办", "三级 · 督办", "四级 · 专报"][usize::from(self.0 - 1)]
    }

    /// A stored tier; `None` for a value outside 1–4, which the schema's CHECK refuses.
    pub fn from_stored(n: i32) -> Option<Self> {
        Self::new(i64::from(n)).ok()
    }

    /// Tiers 3 and 4 are looked at again after closing (回头看).
    pub fn gets_follow_up(self) -> bool {
        self.0 >= 3
    }
}

/// importance × difficulty → tier; a committee setting. Rows are importance (normal,
/// important, major), columns difficulty (easy, moderate, hard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TriageMatrix(pub [[u8; 3]; 3]);

impl Default for TriageMatrix {
    /// DESIGN.md §5: normal×easy→1; normal×moderate, normal×hard, important×easy→2;
    /// important×moderate, important×hard→3; major×any→4.
    fn default() -> Self {
        Self([[1, 2, 2], [2, 3, 3], [4, 4, 4]])
    }
}

impl TriageMatrix {
    pub fn tier(&self, importance: Importance, difficulty: Difficulty) -> Tier {
        let row = Importance::ALL.iter().position(|i| *i == importance).unwrap_or(0);
        let col = Difficulty::ALL.iter().position(|d| *d == difficulty).unwrap_or(0);
        Tier(self.0[row][col])
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if self.0.iter().flatten().all(|t| (1..=4).contains(t)) {
            Ok(())
        } else {
            Err(Invalid::new("out_of_range", "every cell of the matrix is a tier 1–4"))
        }
    }
}

/// What someone does to an item. The state machine says where each may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAction {
    Triage,
    Refer,
    Reply,
    Close(Resolution),
    Reopen,
}

impl ItemAction {
    /// The state after the action, or `None` when the current state does not allow it.
    pub fn next_state(self, from: ItemState) -> Option<ItemState> {
        use ItemState::*;
        match (self, from) {
            // Re-triage (a corrected tier) is allowed until the item is referred.
            (ItemAction::Triage, Received | Triaged | Reopened) => Some(Triaged),
            (ItemAction::Refer, Triaged | Reopened) => Some(Referred),
            // A member on duty may answer a fresh consultation on the spot.
            (ItemAction::Reply, Received | Triaged | Referred | Replied | Reopened) => Some(Replied),
            (ItemAction::Close(_), Replied) => Some(Closed),
            (ItemAction::Close(r), Received | Triaged | Referred | Reopened) if r.needs_no_answer() => Some(Closed),
            (ItemAction::Reopen, Replied | Closed) => Some(Reopened),
            _ => None,
        }
    }
}

/// Members close only a consultation they answered (it stands answered, and the answer is
/// theirs) or a tier 1 (即办, answer on the spot) item they hold. Anything else — an opinion,
/// an untriaged or higher-tier item, or one nobody answered — needs a coordinator.
pub fn member_may_close(
    kind: ItemKind,
    state: ItemState,
    tier: Option<Tier>,
    answered_by_them: bool,
    holds_it: bool,
) -> bool {
    let answered_consultation = kind == ItemKind::Consultation && state == ItemState::Replied && answered_by_them;
    let on_the_spot = tier.is_some_and(|t| t.get() == 1) && holds_it;
    answered_consultation || on_the_spot
}

/// The short code a resident reads aloud or types to follow an item: 8 characters from an
/// alphabet without look-alikes (no 0/O, 1/I/L, no U), shown as `ABCD-EFGH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingCode(String);

const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const TRACKING_LEN: usize = 8;

impl TrackingCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let code = (0..TRACKING_LEN)
            .map(|_| TRACKING_ALPHABET[rng.random_range(0..TRACKING_ALPHABET.len())] as char)
            .collect();
        Self(code)
    }

    /// Accepts what people type: any case, with or without the dash or spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let code: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
        let valid = code.len() == TRACKING_LEN && code.bytes().all(|b| TRACKING_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The stored form, without the dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ABCD-EFGH`, as printed and read aloud.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix_follows_the_design() {
        let m = TriageMatrix::default();
        let t = |i, d| m.tier(i, d).get();
        assert_eq!(t(Importance::Normal, Difficulty::Easy), 1);
        assert_eq!(t(Importance::Normal, Difficulty::Moderate), 2);
        assert_eq!(t(Importance::Normal, Difficulty::Hard), 2);
        assert_eq!(t(Importance::Important, Difficulty::Easy), 2);
        assert_eq!(t(Importance::Important, Difficulty::Moderate), 3);
        assert_eq!(t(Importance::Important, Difficulty::Hard), 3);
        for d in Difficulty::ALL {
            assert_eq!(t(Importance::Major, *d), 4);
        }
        assert!(TriageMatrix([[0, 1, 1], [1, 1, 1], [1, 1, 1]]).validate().is_err());
    }

    #[test]
    fn state_machine() {
        use ItemState::*;
        assert_eq!(ItemAction::Refer.next_state(Received), None, "refer needs a tier first");
        assert_eq!(ItemAction::Refer.next_state(Triaged), Some(Referred));
        assert_eq!(ItemAction::Close(Resolution::Resolved).next_state(Referred), None);
        assert_eq!(ItemAction::Close(Resolution::Duplicate).next_state(Received), Some(Closed));
        assert_eq!(ItemAction::Close(Resolution::Answered).next_state(Replied), Some(Closed));
        assert_eq!(ItemAction::Reopen.next_state(Triaged), None);
        assert_eq!(ItemAction::Reopen.next_state(Closed), Some(Reopened));
        for s in ItemState::ALL {
            assert_eq!(ItemAction::Triage.next_state(*s).is_some(), matches!(s, Received | Triaged | Reopened));
        }
        assert_eq!(ItemAction::Reply.next_state(Closed), None);
    }

    #[test]
    fn members_close_only_what_the_workflow_hands_them() {
        use ItemKind::{Consultation, Opinion};
        use ItemState::{Received, Replied, Triaged};
        let t = |n| Some(Tier::new(n).unwrap());
        // Taken, untriaged, unanswered: a coordinator's to close (issue 17, finding 3).
        assert!(!member_may_close(Opinion, Received, None, false, true));
        assert!(!member_may_close(Consultation, Received, None, false, true));
        // A consultation the member answered; not one a colleague answered.
        assert!(member_may_close(Consultation, Replied, None, true, true));
        assert!(!member_may_close(Consultation, Replied, None, false, true));
        // An opinion answered by the member still needs a coordinator, unless it is tier 1.
        assert!(!member_may_close(Opinion, Replied, None, true, true));
        assert!(member_may_close(Opinion, Triaged, t(1), false, true));
        assert!(!member_may_close(Opinion, Triaged, t(1), false, false));
        assert!(!member_may_close(Opinion, Replied, t(2), true, true));
    }

    #[test]
    fn tracking_codes_read_back_as_typed() {
        for _ in 0..100 {
            let code = TrackingCode::generate();
            assert_eq!(TrackingCode::parse(&code.display()), Some(code.clone()));
            assert_eq!(TrackingCode::parse(&code.display().to_lowercase()), Some(code));
        }
        assert_eq!(TrackingCode::parse("ABCD-EFG0"), None, "0 is not in the alphabet");
        assert_eq!(TrackingCode::parse("ABCD"), None);
    }
}
