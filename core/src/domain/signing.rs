//! The history's signing key: Ed25519, kept outside the database (`PAYDESK_HISTORY_SIGNING_KEY`), so whoever holds
//! the database can neither sign a checkpoint nor vouch for an erasure. Its public key is in the docs of a deployment
//! and at `GET /history/public-key`; `paydesk verify --public-key` checks with it.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// The key that signs checkpoints and erasures.
#[derive(Clone)]
pub struct Signer(SigningKey);

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer(public {})", self.public_hex())
    }
}

/// 32 bytes written as 64 hex digits or in base64.
fn key_bytes(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).ok())?;
    bytes.try_into().ok()
}

impl Signer {
    /// The key from `PAYDESK_HISTORY_SIGNING_KEY`: a file holding the 32-byte seed (hex or base64), or the seed itself.
    pub fn from_setting(value: &str) -> anyhow::Result<Signer> {
        let path = std::path::Path::new(value.trim());
        let text = if path.is_file() {
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("PAYDESK_HISTORY_SIGNING_KEY: reading {}: {e}", path.display()))?
        } else {
            value.to_owned()
        };
        let seed = key_bytes(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "PAYDESK_HISTORY_SIGNING_KEY is neither a file holding an Ed25519 key nor a key: 32 bytes in hex \
                 (64 digits) or base64 (`paydesk history-key` makes one)"
            )
        })?;
        Ok(Signer(SigningKey::from_bytes(&seed)))
    }

    /// A signer of this seed (`paydesk history-key`, tests).
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        Signer(SigningKey::from_bytes(&seed))
    }

    /// The seed, in hex: what `PAYDESK_HISTORY_SIGNING_KEY` holds.
    pub fn seed_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn public_hex(&self) -> String {
        self.public().to_hex()
    }

    /// A secret of its own for `purpose`, derived from the key (HMAC-SHA256 keyed with the seed): what only the
    /// holder of the key can compute, never the key itself.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0.to_bytes()).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).to_bytes().to_vec()
    }
}

/// The key that checks what the signing key signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// A public key in hex (64 digits) or base64.
    pub fn parse(text: &str) -> anyhow::Result<PublicKey> {
        let bytes =
            key_bytes(text).ok_or_else(|| anyhow::anyhow!("a public key is 32 bytes in hex (64 digits) or base64"))?;
        VerifyingKey::from_bytes(&bytes).map(PublicKey).map_err(|e| anyhow::anyhow!("not an Ed25519 public key: {e}"))
    }

    /// Public keys as a setting or flag lists them (blanks skipped); an error names the key that is not one.
    pub fn parse_all(texts: &[String]) -> anyhow::Result<Vec<PublicKey>> {
        texts
            .iter()
            .filter(|k| !k.trim().is_empty())
            .map(|k| PublicKey::parse(k).map_err(|e| anyhow::anyhow!("{k}: {e}")))
            .collect()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// Whether `signature` is this key's signature of `message` (strictly: no malleable encodings).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else { return false };
        self.0.verify_strict(message, &Signature::from_bytes(&bytes)).is_ok()
    }
}

/// The keys the history's signatures are checked with: the one it signs with now and those it signed with before a
/// rotation (retired, still trusted for what they signed). A signature holds if one of them made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeys(Vec<PublicKey>);

impl PublicKeys {
    /// None when there is no key at all.
    pub fn of(keys: impl IntoIterator<Item = PublicKey>) -> Option<PublicKeys> {
        let mut keys: Vec<PublicKey> = keys.into_iter().collect();
        keys.dedup();
        (!keys.is_empty()).then_some(PublicKeys(keys))
    }

    /// Each key, in hex.
    pub fn to_hex(&self) -> Vec<String> {
        self.0.iter().map(PublicKey::to_hex).collect()
    }

    /// Whether one of the keys signed `message` with `signature`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.iter().any(|k| k.verifies(message, signature))
    }
}

impl From<PublicKey> for PublicKeys {
    fn from(key: PublicKey) -> PublicKeys {
        PublicKeys(vec![key])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_under_its_public_key_and_no_other_message_or_key() {
        let key = Signer::from_seed([7; 32]);
        let sig = key.sign(b"heads");
        let public = PublicKey::parse(&key.public_hex()).unwrap();
        assert!(public.verifies(b"heads", &sig));
        assert!(!public.verifies(b"heads!", &sig));
        assert!(!Signer::from_seed([8; 32]).public().verifies(b"heads", &sig));
        assert_eq!(Signer::from_setting(&key.seed_hex()).unwrap().public(), key.public());
        assert!(Signer::from_setting("not a key").is_err());
        let rotated = PublicKeys::of([Signer::from_seed([8; 32]).public(), public]).unwrap();
        assert!(rotated.verifies(b"heads", &sig), "a retired key still vouches for what it signed");
        assert!(PublicKeys::of([]).is_none());
    }
}
