//! One behavioural suite over `dyn Store`, run by both store crates' tests: the suite is
//! the contract of the `Store` port.
//!
//! Each case is an async fn taking a fresh, empty, migrated store (`Arc<dyn Store>`) in
//! [`cases`]; [`conformance_suite!`] expands to one `#[tokio::test]` per case:
//!
//! ```ignore
//! async fn fresh() -> Option<store_conformance::Fixture> { /* open, migrate */ }
//! store_conformance::conformance_suite!(fresh);
//! ```
//!
//! Decisions the suite pins down, beyond the doc comments of `app::store`:
//! - timestamps are kept to the microsecond (sub-microsecond digits are truncated) and come
//!   back in UTC, as the same instant;
//! - `list_organisations`, `list_insurers`, `list_professionals` and `list_accounts` list the
//!   oldest first (`created_at`, then id); `list_contracts` orders codes bytewise;
//! - `find_member_cards` orders by `valid_from`, then `valid_to`, then id, all descending;
//! - a row naming a missing parent (organisation, insurer, contract of the same insurer,
//!   practice, professional) is refused with `Conflict { constraint: "foreign_key" }`.

mod access_cases;
pub mod cases;
mod fixture;
mod guard_cases;
mod import_cases;
mod ledger_cases;
mod money_cases;
mod payments_cases;
mod rights_cases;
pub mod support;

pub use fixture::{Fixture, run};

/// Expands to one `#[tokio::test]` per conformance case. `$factory` is an async fn (or a
/// closure returning a future) giving `Option<Fixture>`: a fresh, empty, migrated store, or
/// `None` when the backend is unavailable and the test was skipped visibly.
/// The crate using it needs `tokio` (features `macros`, `rt`) among its dev-dependencies.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {
        $crate::conformance_suite!(@cases $factory;
            ping_answers_on_a_fresh_store,
            backend_names_itself,
            counts_are_zero_on_a_fresh_store,
            counts_follow_every_insert,
            organisation_round_trips_every_field,
            missing_organisation_is_not_found,
            duplicate_organisation_id_conflicts_on_organisations_pkey,
            list_organisations_returns_only_that_kind_oldest_first,
            insurer_round_trips_every_field,
            missing_insurer_is_not_found,
            insurer_is_found_by_its_amc_number,
            duplicate_amc_number_conflicts_on_insurers_amc,
            duplicate_insurer_id_conflicts_on_insurers_pkey,
            insurer_needs_an_insurer_organisation_with_its_id,
            list_insurers_returns_every_insurer_oldest_first,
            contract_round_trips_every_field,
            contract_of_another_insurer_is_not_found,
            duplicate_contract_version_conflicts_on_contracts_version,
            duplicate_contract_id_conflicts_on_contracts_pkey,
            no_contract_is_in_effect_before_its_first_period,
            contract_in_effect_is_the_version_whose_period_contains_the_day,
            no_contract_is_in_effect_after_a_closed_period,
            open_ended_contract_stays_in_effect,
            highest_version_wins_where_periods_overlap,
            contract_in_effect_keeps_to_its_code_and_insurer,
            list_contracts_orders_by_code_then_version_within_the_insurer,
            beneficiary_round_trips_every_field,
            beneficiary_of_another_insurer_is_not_found,
            sealed_fields_are_stored_byte_exactly,
            beneficiary_batch_with_a_duplicate_id_inserts_nothing,
            beneficiary_batch_repeating_an_id_inserts_nothing,
            empty_batches_are_accepted,
            beneficiary_needs_a_contract_of_its_insurer,
            find_member_returns_the_family_by_birth_rank_then_id,
            find_member_of_an_unknown_member_is_empty,
            card_round_trips_every_field,
            missing_card_is_not_found,
            card_batch_with_a_duplicate_id_inserts_nothing,
            find_member_cards_returns_newest_validity_first_for_that_member_only,
            card_kid_and_code_hash_round_trip_byte_exactly,
            list_insurer_cards_pages_by_id_within_the_insurer,
            update_card_codes_sets_kid_and_hash_all_or_nothing,
            practice_round_trips_every_field,
            missing_practice_is_not_found,
            practice_is_found_by_its_am_number,
            duplicate_am_number_conflicts_on_practices_am_number,
            duplicate_practice_id_conflicts_on_practices_pkey,
            professional_is_found_by_national_id,
            duplicate_national_id_conflicts_on_professionals_national_id,
            duplicate_professional_id_conflicts_on_professionals_pkey,
            list_professionals_keeps_to_the_practice_oldest_first,
            account_round_trips_every_field,
            missing_account_is_not_found,
            duplicate_account_id_conflicts_on_accounts_pkey,
            account_needs_its_organisation,
            list_accounts_keeps_to_the_organisation_oldest_first,
            set_account_status_suspends_and_reactivates,
            set_account_status_of_a_missing_account_is_not_found,
            timestamps_come_back_as_the_same_instant_in_utc,
            timestamps_are_truncated_to_the_microsecond,
            text_keeps_quotes_and_unicode,
            invitation_round_trips_and_is_found_by_its_hash,
            duplicate_invitation_hash_conflicts_on_invitations_token_hash,
            an_invitation_is_used_once,
            invitation_needs_its_organisation,
            credentials_are_listed_per_account_oldest_first,
            duplicate_credential_id_conflicts_on_credentials_credential_id,
            credential_update_and_delete_keep_to_the_account,
            a_ceremony_is_taken_once,
            sessions_are_found_touched_stepped_up_and_deleted,
            client_certificates_round_trip_by_fingerprint_and_list_oldest_first,
            a_client_certificate_is_revoked_once_and_needs_its_organisation,
            purge_access_deletes_expired_ceremonies_sessions_and_unused_invitations,
            idempotency_records_are_one_per_caller_route_and_key,
            idempotency_records_complete_delete_and_purge,
            data_keys_round_trip_and_conflict_on_id_and_version,
            rewrap_data_key_is_compare_and_set,
            retire_and_delete_data_keys,
            beneficiaries_are_found_by_nir_index_within_the_insurer,
            delete_beneficiary_erases_one_row_of_its_insurer,
            beneficiary_pages_walk_an_insurer_by_id_and_seals_update,
            update_beneficiary_seals_of_many_rows_is_all_or_nothing,
            practice_pages_and_iban_update,
            sealed_key_counts_read_the_key_id_of_sealed_headers,
            import_round_trips_and_updates_its_state_and_counts,
            missing_import_is_not_found_and_keeps_to_its_insurer,
            find_beneficiaries_of_members_returns_exactly_those_families,
            apply_beneficiary_batch_inserts_updates_marks_and_issues_cards,
            apply_beneficiary_batch_update_keeps_identity_columns,
            apply_beneficiary_batch_is_all_or_nothing,
            apply_beneficiary_batch_of_many_updates_is_all_or_nothing,
            apply_beneficiary_batches_commits_every_batch_together_when_the_channel_closes,
            apply_beneficiary_batches_is_all_or_nothing,
            find_unseen_beneficiaries_pages_rows_in_effect_not_seen,
            engagement_round_trips_and_is_found_only_by_its_organisation,
            duplicate_engagement_number_conflicts_on_engagements_number,
            engagement_needs_its_insurer_and_organisation,
            not_me_reports_are_one_per_entry_and_keep_to_the_insurer,
            kill_switches_engage_once_per_scope_release_and_answer_at_a_time,
            suspensions_are_open_once_lifted_and_counted_per_organisation,
            alerts_round_trip_newest_first_within_the_limit,
            decoy_cards_round_trip_all_or_nothing_and_need_their_insurer,
            practice_profile_carries_profession_and_opening_hours,
            ledger_appends_are_dense_and_round_trip_every_field,
            ledger_appends_store_the_engagements_they_grant_in_the_same_transaction,
            ledger_append_not_at_the_size_conflicts_and_writes_nothing,
            concurrent_ledger_appends_at_the_same_index_let_one_win,
            ledger_entries_page_by_index_and_leaf_hashes_by_range,
            ledger_tiles_are_stored_once_and_read_by_range,
            ledger_entries_by_pseudonym_are_newest_first_within_the_insurer,
            ledger_entries_filter_by_account_organisation_insurer_and_time,
            ledger_checkpoints_are_one_per_size_and_listed_largest_first,
            ledger_verifications_answer_the_most_recent,
            contract_documents_are_stored_with_their_version_and_keep_to_the_insurer,
            an_approval_reserves_counters_until_cancelled_and_keeps_to_its_practice,
            an_invoice_round_trips_with_its_lines_marks_duplicates_and_consumes_its_approval,
            a_failed_decision_writes_nothing,
            an_invoice_keeps_its_answer_with_it_or_writes_nothing,
            engagement_uses_count_checks_not_followed_by_a_claim_in_time,
            racing_claims_never_pay_more_than_the_ceiling,
            a_payment_run_claims_each_payable_line_once_and_is_resumed_while_claimed,
            concurrent_payment_runs_never_claim_the_same_line,
            iban_changes_need_a_second_person_and_apply_once_due,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                $crate::run(stringify!($case), ($factory)().await, $crate::cases::$case).await;
            }
        )*
    };
}
