//! A roster's life: a `draft` the office edits, `published` once members hold its duties
//! (changes then become new versions), `discarded` when a draft is dropped.

text_enum! {
    RosterStatus { Draft = "draft", Published = "published", Discarded = "discarded" }
}

impl RosterStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            RosterStatus::Draft => "草稿",
            RosterStatus::Published => "已发布",
            RosterStatus::Discarded => "已作废",
        }
    }
}

text_enum! {
    /// A member's place in a duty's team: the lead (组长) or a member.
    AssignmentRole { Lead = "lead", Member = "member" }
}

impl AssignmentRole {
    pub fn label_zh(self) -> &'static str {
        match self {
            AssignmentRole::Lead => "组长",
            AssignmentRole::Member => "组员",
        }
    }
}

text_enum! {
    /// How an assignment came to be: drawn by the generator, set by a coordinator, taken over
    /// in an approved swap, or standing in for a member on leave.
    AssignmentSource { Generated = "generated", Manual = "manual", Swap = "swap", Substitute = "substitute" }
}
