"""The generated module's surface is exactly what these tests know about: a new export (or a
removed one) fails here until the suite, the Swift tests and the README are brought up to date.
Every name below is called somewhere in this suite; conftest.py checks that at the end of a
full run (ESR_FFI_EVERY_EXPORT=1, as scripts/test-ffi-python sets)."""

from __future__ import annotations

import inspect

import esr_ffi

FUNCTIONS = {
    "all_functions", "all_urps", "function_name", "function_named", "function_names",
    "mask_mobile_number", "parse_username", "urp_name", "urp_named", "urp_names", "username_stem",
}

METHODS = {
    "EsrService": {
        "add_assignment", "add_org_unit", "add_person", "advance_clock",
        "approve_internet_access", "bootstrap_user_administrators", "certifications_for",
        "change_password", "check_upgrade", "clear_step_up_lock", "competence_catalogue",
        "create_trust", "decide", "end_all_sessions", "end_session", "sessions_of",
        "define_certification", "define_competence", "enrol", "for_testing", "functions",
        "grant_urp", "import_competences", "import_competences_async", "log_in_with_password",
        "log_in_with_password_async", "log_in_with_smartcard", "open_sqlite", "log_out", "my_compliance",
        "my_elearning", "now", "outbox", "passcode_status", "person", "play",
        "record_competence", "request_mobile_code", "request_unlock_link",
        "request_upgrade_code", "request_username_reminder", "resend_passcode",
        "reset_password_with_link", "reset_password_with_link_async", "session_info", "set_now",
        "set_password", "set_password_async",
        "set_requirement", "subscribe", "subscriptions", "team_compliance", "uk_today",
        "unlock_with_link", "unsubscribe", "verify_passcode",
        # authenticator apps
        "confirm_authenticator", "enrol_authenticator", "remove_authenticator", "second_factors",
        "set_authenticator_keys", "upgrade_with_authenticator",
        # notifications and changes held for approval
        "act_on_notification", "expire_pending_changes", "notification_count", "notifications",
        "pending_change", "request_assignment_change", "request_details_change",
        # the three workflows: access requests, the URP review, competences claimed
        "access_request", "access_requests_to_authorise", "access_requests_to_grant",
        "authorise_access_request", "grant_access_request", "my_access_requests",
        "record_access_prerequisite", "reject_access_request", "request_access",
        "set_caldicott_guardian",
        "confirm_urp_grant", "open_urp_review", "revoke_urp_in_review", "urp_review_status",
        "urp_reviews",
        "approve_competence_claim", "claim_competence", "competence_claims_of",
        "competence_claims_to_approve", "competences_awaiting_approval", "reject_competence_claim",
    },
    "EsrSession": {"audit_ref", "username"},
    "Outbox": {"clear", "fail_with", "last_code_to", "last_email_to", "last_sms_to", "message_count"},
    "SmsMessage": {"expose_text", "expose_to_e164", "masked_to", "vpd"},
    "EmailMessage": {"expose_token", "kind", "link_expires_at", "text", "to_address", "username", "vpd"},
    "AuthenticatorEnrolment": {"digits", "manual_key", "period", "qr_png", "qr_svg", "uri"},
    "Totp": {"account", "code", "digits", "issuer", "period", "seconds_left"},
    # Foreign traits: the app implements these; the library calls them.
    "SmsGateway": {"send_sms"},
    "EmailGateway": {"send_email"},
}

RECORDS_AND_ENUMS = {
    "AccessDecision", "AccessLevel", "EsrActor", "AssignmentCompliance", "AssignmentInfo",
    "CalendarDate", "CertificationDefinition", "ChallengeStatus", "Channel",
    "CompetenceDefinition", "CompetenceRecord", "CompletionRule", "ComplianceCounts",
    "ComplianceRow", "ComplianceStatus", "ComponentDefinition", "ComponentKind", "EmailKind",
    "Function", "ImportProblem", "ImportSummary", "Urp",
    "Enrolment", "ExpiryBase", "Need", "NewAssignment", "NewCompetenceRecord", "NewPerson",
    "PasscodeChallenge", "Performance", "PersonCompliance", "PersonInfo", "PlayOutcome",
    "PlayResult", "Purpose", "RecordExpiry", "RedReason", "RenewalRule", "RequirementTarget",
    "SessionInfo",
    "LearningSubscription", "SubscriptionStatus", "TeamCompliance", "TeamComplianceMember",
    "TrustOptions", "UrpGrantRequest", "UsernameParts", "VerifyResult", "VerifyStatus",
    "LinkRefusal", "ServiceSettings", "SessionSummary",
    "AuthenticatorOutcome", "AuthenticatorResult", "RetiredKey", "SecondFactors",
    "AssignmentChange", "NotificationAction", "NotificationInfo", "PendingChangeInfo",
    "AccessPrerequisite", "AccessRequestInfo", "NewAccessRequest", "RecordedPrerequisiteInfo",
    "UrpReviewInfo", "UrpReviewItemInfo", "UrpReviewStatusInfo", "CompetenceClaimInfo",
}

ERRORS = {
    "AccountLocked", "AuditBroken", "BulkInput", "Conflict", "Delivery", "ImportRejected",
    "Internal", "InvalidInput", "LearningRefused", "LogInRefused", "NotFound", "NotPermitted",
    "PasscodeRefused", "RateLimited", "RecoveryLinkRefused", "SessionExpired", "Storage",
    "Busy",
}

# What uniffi adds around the exported types: protocols, the Rust-side trait wrappers, its own
# panic error and the timestamp alias.
UNIFFI_SUPPORT = {
    "EmailGatewayImpl", "EmailMessageProtocol", "EsrServiceProtocol", "EsrSessionProtocol",
    "InternalError", "OutboxProtocol", "SmsGatewayImpl", "SmsMessageProtocol",
    "AuthenticatorEnrolmentProtocol", "TotpProtocol",
}


def public(names: object) -> set[str]:
    return {n for n in names if not n.startswith("_")}  # type: ignore[attr-defined]


def test_module_functions_are_the_expected_set() -> None:
    found = {
        n for n, o in vars(esr_ffi).items()
        if inspect.isfunction(o) and getattr(o, "__wrapped__", o).__module__ == "esr_ffi"
        and not n.startswith("_")
    }
    # uniffi's own hook for async calls (setting asyncio's loop from another thread).
    assert found == FUNCTIONS | {"uniffi_set_event_loop"}


def test_object_methods_are_the_expected_set() -> None:
    for cls, methods in METHODS.items():
        assert public(vars(getattr(esr_ffi, cls))) == methods, cls


def test_types_are_the_expected_set() -> None:
    found = {
        n for n, o in vars(esr_ffi).items()
        if inspect.isclass(o) and o.__module__ == "esr_ffi" and not n.startswith("_")
    }
    assert found == RECORDS_AND_ENUMS | set(METHODS) | UNIFFI_SUPPORT | {"EsrError"}


def test_error_kinds_are_the_expected_set() -> None:
    kinds = {n for n in public(vars(esr_ffi.EsrError)) if inspect.isclass(getattr(esr_ffi.EsrError, n))}
    assert kinds == ERRORS
    for k in kinds:
        assert issubclass(getattr(esr_ffi.EsrError, k), Exception)
