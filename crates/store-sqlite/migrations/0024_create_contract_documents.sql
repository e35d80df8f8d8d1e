-- The TOML text of each contract version as loaded (`rempart contracts load`, the insurer
-- API): what the adjudication engine reads. One per contract version.
CREATE TABLE contract_documents (
    contract_id  BLOB NOT NULL,
    insurer_id   BLOB NOT NULL,
    toml         TEXT NOT NULL,
    CONSTRAINT contract_documents_pkey PRIMARY KEY (contract_id),
    CONSTRAINT contract_documents_contract_fkey FOREIGN KEY (insurer_id, contract_id) REFERENCES contracts (insurer_id, id)
);
