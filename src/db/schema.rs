// Diesel schema of the core data model; kept in step with migrations/{sqlite,postgres} by hand
// (tests/migrations.rs round-trips every table on each backend).

diesel::table! {
    programmes (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    schools (id) {
        id -> Text,
        programme_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        programme_id -> Nullable<Text>,
        email -> Text,
        display_name -> Text,
        role -> Text,
        status -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    student_profiles (user_id) {
        user_id -> Text,
        school_id -> Text,
        grade -> Integer,
        approval_status -> Text,
        approved_at -> Nullable<Timestamp>,
        activation_deadline -> Nullable<Timestamp>,
        about -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mentor_profiles (user_id) {
        user_id -> Text,
        field -> Text,
        employer -> Text,
        about -> Text,
        capacity -> Integer,
        background_check_status -> Text,
        background_check_expires_at -> Nullable<Timestamp>,
        safeguarding_training_at -> Nullable<Timestamp>,
        code_of_conduct_signed_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    guardianships (id) {
        id -> Text,
        guardian_id -> Text,
        student_id -> Text,
        relationship -> Text,
        consented_at -> Nullable<Timestamp>,
        view_suspended -> Bool,
        view_suspended_reason -> Nullable<Text>,
        view_suspended_by -> Nullable<Text>,
        view_suspended_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teacher_schools (teacher_id, school_id) {
        teacher_id -> Text,
        school_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    questionnaire_answers (id) {
        id -> Text,
        user_id -> Text,
        question_key -> Text,
        answer -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mentorship_requests (id) {
        id -> Text,
        student_id -> Text,
        mentor_id -> Text,
        original_text -> Text,
        delivered_text -> Nullable<Text>,
        moderation_status -> Text,
        verdict -> Nullable<Text>,
        policy_version -> Nullable<Text>,
        status -> Text,
        response_note -> Nullable<Text>,
        deadline_at -> Nullable<Timestamp>,
        responded_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    matches (id) {
        id -> Text,
        student_id -> Text,
        mentor_id -> Text,
        request_id -> Nullable<Text>,
        status -> Text,
        matched_by -> Nullable<Text>,
        match_note -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        close_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreements (id) {
        id -> Text,
        match_id -> Text,
        user_id -> Text,
        agreement_version -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        match_id -> Text,
        guardian_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        decision -> Text,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    goals (id) {
        id -> Text,
        match_id -> Text,
        title -> Text,
        description -> Text,
        target_date -> Nullable<Timestamp>,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    goal_notes (id) {
        id -> Text,
        goal_id -> Text,
        author_id -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    closure_surveys (id) {
        id -> Text,
        match_id -> Text,
        user_id -> Text,
        answers -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        match_id -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        conversation_id -> Text,
        sender_id -> Text,
        original_text -> Text,
        delivered_text -> Nullable<Text>,
        status -> Text,
        verdict -> Nullable<Text>,
        policy_version -> Nullable<Text>,
        flags -> Text,
        escalate -> Bool,
        created_at -> Timestamp,
        moderated_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    moderation_reviews (id) {
        id -> Text,
        message_id -> Text,
        reviewer_id -> Text,
        decision -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        reporter_id -> Text,
        conversation_id -> Text,
        message_id -> Nullable<Text>,
        reason -> Text,
        reported_text -> Nullable<Text>,
        status -> Text,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        kind -> Text,
        severity -> Text,
        status -> Text,
        summary -> Text,
        student_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        message_id -> Nullable<Text>,
        report_id -> Nullable<Text>,
        due_at -> Timestamp,
        acknowledged_by -> Nullable<Text>,
        acknowledged_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        resolution_note -> Nullable<Text>,
        last_notified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        idempotency_key -> Nullable<Text>,
        status -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        to_address -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        not_before -> Timestamp,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    web_sessions (key_hash) {
        key_hash -> Text,
        state -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttles (key_hash) {
        key_hash -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        seq -> BigInt,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        details -> Text,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    access_log (id) {
        id -> Text,
        reader_id -> Text,
        conversation_id -> Text,
        reader_relation -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    completion_confirmations,
    programmes,
    schools,
    users,
    student_profiles,
    mentor_profiles,
    guardianships,
    teacher_schools,
    questionnaire_answers,
    mentorship_requests,
    matches,
    agreements,
    consents,
    goals,
    goal_notes,
    closure_surveys,
    conversations,
    messages,
    moderation_reviews,
    reports,
    alerts,
    jobs,
    mail_outbox,
    api_tokens,
    web_sessions,
    login_throttles,
    audit_log,
    access_log,
);
diesel::joinable!(schools -> programmes (programme_id));
diesel::joinable!(users -> programmes (programme_id));
diesel::joinable!(student_profiles -> users (user_id));
diesel::joinable!(student_profiles -> schools (school_id));
diesel::joinable!(teacher_schools -> users (teacher_id));
diesel::joinable!(teacher_schools -> schools (school_id));
diesel::joinable!(questionnaire_answers -> users (user_id));
diesel::joinable!(matches -> mentorship_requests (request_id));
diesel::joinable!(agreements -> matches (match_id));
diesel::joinable!(agreements -> users (user_id));
diesel::joinable!(consents -> matches (match_id));
diesel::joinable!(consents -> users (guardian_id));
diesel::joinable!(goals -> matches (match_id));
diesel::joinable!(goals -> users (created_by));
diesel::joinable!(goal_notes -> goals (goal_id));
diesel::joinable!(goal_notes -> users (author_id));
diesel::joinable!(closure_surveys -> matches (match_id));
diesel::joinable!(closure_surveys -> users (user_id));
diesel::joinable!(conversations -> matches (match_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(moderation_reviews -> messages (message_id));
diesel::joinable!(moderation_reviews -> users (reviewer_id));
diesel::joinable!(reports -> conversations (conversation_id));
diesel::joinable!(reports -> messages (message_id));
diesel::joinable!(alerts -> conversations (conversation_id));
diesel::joinable!(alerts -> messages (message_id));
diesel::joinable!(alerts -> reports (report_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(access_log -> users (reader_id));
diesel::joinable!(access_log -> conversations (conversation_id));

diesel::table! {
    completion_confirmations (match_id, user_id) {
        match_id -> Text,
        user_id -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::joinable!(completion_confirmations -> matches (match_id));
