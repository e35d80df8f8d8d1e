//! Synthetic data: a French-looking population of members and beneficiaries (filled by the generator work).
