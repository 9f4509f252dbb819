//! A roster's life: a `draft` the office edits, `published` once members hold its duties
//! (changes then become new versions), `discarded` when a draft is dropped.

text_enum! {
    RosterStatus { Draft = "draft", Published = "published", Discarded = "discarded" }
}
