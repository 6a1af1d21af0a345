//! The holder's full record the issuer keeps beside each credential (which carries only the door
//! form), read back only when its row's proof shows the issuer stored it.

use propusk_spec::{CredentialId, Holder};

use crate::error::{IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::proof::credential_content;
use crate::records::Row;

impl Issuer {
    /// The full record of a stored credential's holder, once its row's proof shows that the
    /// issuer stored it (a record changed without the vault is never signed again nor put in a
    /// twin). Refused for a row without a record (from before the door form).
    pub(crate) fn kept_holder(&self, id: &CredentialId) -> Result<Holder, IssuerError> {
        let row = self
            .store
            .credential(id)?
            .ok_or(IssuerError::UnknownCredential(*id))?;
        let Some(holder) = row.holder.as_deref() else {
            return Err(StoreError::Corrupt(
                "a credential without its holder's record (issued before the door form): issue                  it anew from the registry",
            )
            .into());
        };
        let content = credential_content(id, &row.text, Some(holder));
        let proven = row
            .proof
            .as_deref()
            .is_some_and(|p| self.vault().is_ok_and(|v| v.proves(p, &content.parts())));
        if !proven {
            return Err(StoreError::Unproven(vec![Row::Credential(*id).describe()]).into());
        }
        Holder::from_record(holder)
            .map_err(|_| StoreError::Corrupt("a holder's record that does not decode").into())
    }
}
