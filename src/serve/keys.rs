//! The server's host key (ed25519, generated on first use, kept with mode 0600) and
//! the keys allowed to connect (an OpenSSH `authorized_keys` file).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::{AuthorizedKeys, LineEnding};
use russh::keys::{PrivateKey, PublicKey};

use super::ServeError;

/// `<data dir>/ssh_host_ed25519_key` (e.g. `~/.local/share/tokenskip-studio/`).
pub fn default_host_key_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "tokenskip-studio")
        .map(|d| d.data_local_dir().join("ssh_host_ed25519_key"))
        .unwrap_or_else(|| std::env::temp_dir().join("tokenskip-studio-ssh_host_ed25519_key"))
}

/// `~/.ssh/authorized_keys`.
pub fn default_authorized_keys_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().join(".ssh").join("authorized_keys"))
}

/// Loads the host key at `path`, or creates a new ed25519 key there (mode 0600).
/// A key that others can read is refused, as sshd does.
pub fn load_or_create_host_key(path: &Path) -> Result<PrivateKey, ServeError> {
    if path.exists() {
        check_private(path)?;
        return russh::keys::load_secret_key(path, None).map_err(|e| ServeError::HostKey {
            path: path.to_path_buf(),
            message: e.to_string(),
        });
    }
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    seed.fill(0);
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| ServeError::HostKey {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    write_private(path, text.as_bytes()).map_err(|e| ServeError::HostKey {
        path: path.to_path_buf(),
        message: format!("cannot write it: {e}"),
    })?;
    tracing::info!(path = %path.display(), "generated a new ed25519 host key");
    Ok(key)
}

/// Creates `path` (and its directory) with mode 0600; fails if it already exists.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), ServeError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| ServeError::HostKey {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ServeError::HostKey {
            path: path.to_path_buf(),
            message: format!(
                "it is readable by others (mode {:o}); run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), ServeError> {
    Ok(())
}

/// The public keys in an `authorized_keys` file. Options (`command=`, `from=`, ...)
/// are ignored: the server never runs commands, and every key gets the same viewer.
pub fn load_authorized_keys(path: &Path) -> Result<Vec<PublicKey>, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServeError::AuthorizedKeys {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut entries = AuthorizedKeys::new(trimmed);
        match entries.next() {
            Some(Ok(entry)) => keys.push(entry.public_key().clone()),
            Some(Err(e)) => {
                return Err(ServeError::AuthorizedKeys {
                    path: path.to_path_buf(),
                    message: format!("line {}: {e}", i + 1),
                })
            }
            None => {}
        }
    }
    if keys.is_empty() {
        return Err(ServeError::AuthorizedKeys {
            path: path.to_path_buf(),
            message: "no keys in it (one OpenSSH public key per line, e.g. the contents of ~/.ssh/id_ed25519.pub)".into(),
        });
    }
    Ok(keys)
}

/// Whether `key` is one of `allowed` (compared by key material, not comment).
pub fn is_authorized(allowed: &[PublicKey], key: &PublicKey) -> bool {
    allowed.iter().any(|k| k.key_data() == key.key_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/host_key");
        let a = load_or_create_host_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = load_or_create_host_key(&path).unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{e}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let b = load_or_create_host_key(&path).unwrap();
        assert_eq!(a.public_key().key_data(), b.public_key().key_data());
    }

    #[test]
    fn authorized_keys_parse_and_match() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = load_or_create_host_key(&dir.path().join("k1")).unwrap();
        let k2 = load_or_create_host_key(&dir.path().join("k2")).unwrap();
        let line = k1.public_key().to_openssh().unwrap();
        let path = dir.path().join("authorized_keys");
        std::fs::write(
            &path,
            format!("# viewers\n\nrestrict {line} alice@laptop\n"),
        )
        .unwrap();
        let keys = load_authorized_keys(&path).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(is_authorized(&keys, k1.public_key()));
        assert!(!is_authorized(&keys, k2.public_key()));

        std::fs::write(&path, "# nothing\n").unwrap();
        let e = load_authorized_keys(&path).unwrap_err().to_string();
        assert!(e.contains("no keys"), "{e}");
        std::fs::write(&path, "ssh-ed25519 not-base64!!\n").unwrap();
        let e = load_authorized_keys(&path).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = load_authorized_keys(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
