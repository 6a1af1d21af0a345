//! The append-only audit log: who-did-what of the keys, revocations, publications and imports
//! (ids only, never personal data). The store refuses to rewrite it.

use propusk_spec::Timestamp;

use crate::error::IssuerError;
use crate::issuer::Issuer;
use crate::records::{AuditEntry, AuditOp};

impl Issuer {
    /// Appends `op` on `detail` at `at` to the audit log.
    pub(crate) fn audit(
        &mut self,
        at: Timestamp,
        op: AuditOp,
        detail: &str,
    ) -> Result<(), IssuerError> {
        Ok(self.store.append_audit(at, op, detail)?)
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, IssuerError> {
        Ok(self.store.audit_log()?)
    }
}
