//! Enumerations stored as text (`ItemState`, `SwapStatus`, …) read and written as their own
//! types on either backend. A stored value outside the enumeration is a corrupt row and
//! fails the read loudly rather than turning into a default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Integer, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::StoredText;

fn read<T: StoredText, DB: Backend>(bytes: DB::RawValue<'_>) -> deserialize::Result<T>
where
    String: FromSql<Text, DB>,
{
    let raw = <String as FromSql<Text, DB>>::from_sql(bytes)?;
    T::from_stored(&raw).ok_or_else(|| format!("stored {} {raw:?} is not one of its values", T::WHAT).into())
}

/// Implements the text conversion on both backends and on the connection enum's backend for
/// each stored enumeration (diesel needs the impls per type; a blanket impl over the trait
/// would collide with diesel's own).
macro_rules! stored_as_text {
    ($($ty:ty),* $(,)?) => {$(
        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read::<Self, Pg>(bytes)
            }
        }
        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read::<Self, Sqlite>(bytes)
            }
        }
        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_stored(), out)
            }
        }
        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_stored(), out)
            }
        }
        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(serialize::IsNull::No)
            }
        }
    )*};
}

use crate::domain::{
    AssignmentRole, AssignmentSource, Assurance, CheckinMethod, CheckinReview, Difficulty, Importance, ItemKind,
    ItemSource, ItemState, LeaveStatus, Resolution, RosterStatus, Satisfaction, SwapStatus, Tier,
};

stored_as_text!(
    ItemKind,
    ItemSource,
    ItemState,
    Importance,
    Difficulty,
    Resolution,
    Satisfaction,
    LeaveStatus,
    SwapStatus,
    RosterStatus,
    AssignmentRole,
    AssignmentSource,
    CheckinMethod,
    Assurance,
    CheckinReview,
);

// A tier is stored as its number, 1–4 (the schema's CHECK); anything else is a corrupt row.
fn read_tier<DB: Backend>(bytes: DB::RawValue<'_>) -> deserialize::Result<Tier>
where
    i32: FromSql<Integer, DB>,
{
    let raw = <i32 as FromSql<Integer, DB>>::from_sql(bytes)?;
    Tier::from_stored(raw).ok_or_else(|| format!("stored tier {raw} is not 1–4").into())
}

impl FromSql<Integer, Pg> for Tier {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_tier::<Pg>(bytes)
    }
}
impl FromSql<Integer, Sqlite> for Tier {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_tier::<Sqlite>(bytes)
    }
}
impl FromSql<Integer, MultiBackend> for Tier {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Integer>()
    }
}
impl ToSql<Integer, Pg> for Tier {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        out.write_all(&i32::from(self.get()).to_be_bytes())?;
        Ok(serialize::IsNull::No)
    }
}
impl ToSql<Integer, Sqlite> for Tier {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(i32::from(self.get()));
        Ok(serialize::IsNull::No)
    }
}
impl ToSql<Integer, MultiBackend> for Tier {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Integer, self));
        Ok(serialize::IsNull::No)
    }
}
