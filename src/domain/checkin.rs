//! How a check-in was made, and how far it proves the member was there.

text_enum! {
    /// The venue display's rotating code, the printed poster's code, or a coordinator's entry.
    CheckinMethod { Display = "display", Poster = "poster", Manual = "manual" }
}

text_enum! {
    /// `high`: a rotating code read within its step; `low`: the poster's fixed code, inside the
    /// venue's geofence; `manual`: entered by a coordinator with a reason.
    Assurance { High = "high", Low = "low", Manual = "manual" }
}
