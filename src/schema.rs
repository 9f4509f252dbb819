//! Diesel table definitions, written by hand to match both migration folders
//! (`migrations/sqlite`, `migrations/postgres`); only the SQL types both backends share.

diesel::table! {
    committees (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        timezone -> Text,
        settings -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
    }
}

diesel::table! {
    venues (id) {
        id -> BigInt,
        committee_id -> BigInt,
        kind -> Text,
        name -> Text,
        township -> Nullable<Text>,
        code -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        radius_m -> Nullable<Integer>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        checkin_secret -> Nullable<Text>,
        checkin_secret_version -> Integer,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        committee_id -> BigInt,
        name -> Text,
        phone -> Text,
        sector -> Nullable<Text>,
        home_venue_id -> Nullable<BigInt>,
        standing_committee -> Bool,
        active -> Bool,
        roles -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sms_enabled -> Bool,
    }
}

diesel::table! {
    coordinator_venues (member_id, venue_id) {
        committee_id -> BigInt,
        member_id -> BigInt,
        venue_id -> BigInt,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttle_counters (key_hash) {
        key_hash -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    calendar_years (committee_id, year) {
        committee_id -> BigInt,
        year -> Integer,
        source -> Nullable<Text>,
        updated_at -> Timestamp,
        updated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    calendar_days (committee_id, day) {
        committee_id -> BigInt,
        day -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        committee_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Nullable<BigInt>,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    shift_templates (id) {
        id -> BigInt,
        committee_id -> BigInt,
        venue_id -> BigInt,
        name -> Text,
        kind -> Text,
        rrule -> Text,
        start_time -> Time,
        end_time -> Time,
        head_min -> Integer,
        head_max -> Integer,
        head_target -> Integer,
        pool_venue_id -> Nullable<BigInt>,
        include_roving -> Bool,
        holiday_policy -> Text,
        one_per_member_per_month -> Bool,
        also_on_adjusted_working_days -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rosters (id) {
        id -> BigInt,
        committee_id -> BigInt,
        period_from -> Date,
        period_to -> Date,
        status -> Text,
        version -> Integer,
        shortfalls -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        published_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
        calendar_missing_years -> Text,
    }
}

diesel::table! {
    shifts (id) {
        id -> BigInt,
        committee_id -> BigInt,
        roster_id -> BigInt,
        template_id -> BigInt,
        venue_id -> BigInt,
        local_date -> Date,
        start_time -> Time,
        end_time -> Time,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        head_min -> Integer,
        head_max -> Integer,
    }
}

diesel::table! {
    assignments (id) {
        id -> BigInt,
        committee_id -> BigInt,
        shift_id -> BigInt,
        member_id -> BigInt,
        role -> Text,
        source -> Text,
        locked -> Bool,
        reason -> Text,
        removed_at -> Nullable<Timestamp>,
        removed_in_version -> Nullable<Integer>,
        added_in_version -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    roster_changes (id) {
        id -> BigInt,
        committee_id -> BigInt,
        roster_id -> BigInt,
        version -> Integer,
        actor_id -> Nullable<BigInt>,
        reason -> Text,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    swap_requests (id) {
        id -> BigInt,
        committee_id -> BigInt,
        assignment_id -> BigInt,
        from_member_id -> BigInt,
        to_member_id -> Nullable<BigInt>,
        accepted_by -> Nullable<BigInt>,
        status -> Text,
        note -> Text,
        decided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    leave_requests (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        date_from -> Date,
        date_to -> Date,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (member_id) {
        member_id -> BigInt,
        committee_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        committee_id -> BigInt,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        channel -> Text,
        notice_id -> Nullable<BigInt>,
        target -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notice_channels (id) {
        id -> BigInt,
        committee_id -> BigInt,
        venue_id -> Nullable<BigInt>,
        channel -> Text,
        target -> Text,
        config -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    channel_send_slots (target, slot) {
        target -> Text,
        slot -> Integer,
        used_at -> Timestamp,
    }
}

diesel::table! {
    display_devices (id) {
        id -> BigInt,
        committee_id -> BigInt,
        venue_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    checkins (id) {
        id -> BigInt,
        committee_id -> BigInt,
        assignment_id -> BigInt,
        member_id -> BigInt,
        venue_id -> BigInt,
        shift_id -> BigInt,
        checked_in_at -> Timestamp,
        received_at -> Timestamp,
        method -> Text,
        assurance -> Text,
        late -> Bool,
        offline -> Bool,
        late_upload -> Bool,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        checked_out_at -> Nullable<Timestamp>,
        manual_reason -> Nullable<Text>,
        recorded_by -> Nullable<BigInt>,
        review -> Nullable<Text>,
        reviewed_by -> Nullable<BigInt>,
        reviewed_at -> Nullable<Timestamp>,
        review_note -> Nullable<Text>,
        code_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    checkin_attempts (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        nonce -> Text,
        outcome -> Text,
        response -> Text,
        raw_payload -> Text,
        scanned_at -> Timestamp,
        received_at -> Timestamp,
        offline -> Bool,
    }
}

diesel::table! {
    handling_units (id) {
        id -> BigInt,
        committee_id -> BigInt,
        name -> Text,
        kind -> Text,
        contact -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    items (id) {
        id -> BigInt,
        committee_id -> BigInt,
        venue_id -> BigInt,
        tracking_code -> Text,
        kind -> Text,
        topic -> Text,
        body -> Text,
        resident_name -> Nullable<Text>,
        resident_phone -> Nullable<Text>,
        source -> Text,
        recorded_by -> Nullable<BigInt>,
        assignment_id -> Nullable<BigInt>,
        state -> Text,
        importance -> Nullable<Text>,
        difficulty -> Nullable<Text>,
        tier -> Nullable<Integer>,
        tier_override_reason -> Nullable<Text>,
        due_on -> Nullable<Date>,
        handling_unit_id -> Nullable<BigInt>,
        taken_by -> Nullable<BigInt>,
        resolution -> Nullable<Text>,
        satisfaction -> Nullable<Text>,
        resident_reopened -> Bool,
        answered_at -> Nullable<Timestamp>,
        first_reply_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        follow_up_on -> Nullable<Date>,
        follow_up_done_at -> Nullable<Timestamp>,
        escalation_level -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    item_events (id) {
        id -> BigInt,
        committee_id -> BigInt,
        item_id -> BigInt,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        note -> Nullable<Text>,
        public -> Bool,
    }
}

diesel::table! {
    referrals (id) {
        id -> BigInt,
        committee_id -> BigInt,
        item_id -> BigInt,
        handling_unit_id -> BigInt,
        token_hash -> Text,
        note -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        replied_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    submission_hits (id) {
        id -> BigInt,
        key_hash -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    console_sessions (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        token_hash -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    member_sessions (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        token_hash -> Text,
        csrf_token -> Text,
        credential_tag -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    member_notices (id) {
        id -> BigInt,
        committee_id -> BigInt,
        member_id -> BigInt,
        outbox_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(venues -> committees (committee_id));
diesel::table! {
    /// Written when `zhiban demo` creates its county: the one database demo may serve.
    demo_database (id) {
        id -> Integer,
        committee_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(checkins -> assignments (assignment_id));
diesel::joinable!(checkins -> members (member_id));
diesel::joinable!(members -> committees (committee_id));
diesel::joinable!(members -> venues (home_venue_id));
diesel::joinable!(coordinator_venues -> venues (venue_id));
diesel::joinable!(refresh_tokens -> members (member_id));
diesel::joinable!(console_sessions -> members (member_id));
diesel::joinable!(member_sessions -> members (member_id));
diesel::joinable!(member_notices -> outbox (outbox_id));
diesel::joinable!(member_notices -> members (member_id));
diesel::joinable!(shifts -> rosters (roster_id));
diesel::joinable!(shifts -> venues (venue_id));
diesel::joinable!(shifts -> shift_templates (template_id));
diesel::joinable!(assignments -> shifts (shift_id));
diesel::joinable!(assignments -> members (member_id));
diesel::joinable!(swap_requests -> assignments (assignment_id));
diesel::joinable!(leave_requests -> members (member_id));
diesel::joinable!(items -> venues (venue_id));
diesel::joinable!(items -> handling_units (handling_unit_id));
diesel::joinable!(item_events -> items (item_id));
diesel::joinable!(referrals -> items (item_id));
diesel::joinable!(referrals -> handling_units (handling_unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    committees,
    venues,
    members,
    coordinator_venues,
    refresh_tokens,
    throttle_counters,
    calendar_years,
    calendar_days,
    audit_events,
    shift_templates,
    rosters,
    shifts,
    assignments,
    roster_changes,
    swap_requests,
    leave_requests,
    calendar_feeds,
    outbox,
    display_devices,
    checkins,
    checkin_attempts,
    handling_units,
    items,
    item_events,
    referrals,
    submission_hits,
    console_sessions,
    member_sessions,
    member_notices,
    notice_channels,
    channel_send_slots,
    demo_database,
);
