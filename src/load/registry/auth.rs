//! Credentials and challenges. Credentials come, first match wins, from
//! `--username`/`--password-stdin`, `$REGISTRY_AUTH_FILE`, podman's
//! `auth.json` (`$XDG_RUNTIME_DIR/containers/`, `~/.config/containers/`),
//! and docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`): `auths`
//! entries, `credHelpers` and `credsStore` (run as `docker-credential-NAME
//! get`). A secret is never put in an error or any output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;

use super::reference::DOCKER_HUB;

/// A user name and its secret. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, <secret>)", self.username)
    }
}

impl Credentials {
    /// `Authorization: Basic …`
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// Where credentials were found (said in errors, never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub creds: Credentials,
    pub from: String,
}

/// The auth files to look in, in order.
fn auth_files() -> Vec<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = env("HOME");
    let mut v = Vec::new();
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        v.push(p);
    }
    if let Some(d) = env("XDG_RUNTIME_DIR") {
        v.push(d.join("containers/auth.json"));
    }
    match env("XDG_CONFIG_HOME") {
        Some(d) => v.push(d.join("containers/auth.json")),
        None => {
            if let Some(h) = &home {
                v.push(h.join(".config/containers/auth.json"));
            }
        }
    }
    match env("DOCKER_CONFIG") {
        Some(d) => v.push(d.join("config.json")),
        None => {
            if let Some(h) = &home {
                v.push(h.join(".docker/config.json"));
            }
        }
    }
    v
}

/// The keys an auth file may use for `registry` (most specific first:
/// podman allows `host/namespace` keys).
fn keys_for(registry: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let parts: Vec<&str> = repository.split('/').collect();
    for n in (1..=parts.len()).rev() {
        keys.push(format!("{registry}/{}", parts[..n].join("/")));
    }
    if registry == DOCKER_HUB {
        keys.extend(
            [
                "https://index.docker.io/v1/",
                "index.docker.io",
                "docker.io",
                "registry-1.docker.io",
            ]
            .map(String::from),
        );
    } else {
        keys.push(registry.to_string());
    }
    keys
}

/// The key an auth-file entry is written under, without scheme or path
/// (`https://host/v1/` → `host`), to compare with [`keys_for`].
fn normalize_key(k: &str) -> String {
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let k = k
        .strip_suffix("/v1/")
        .or_else(|| k.strip_suffix("/v2/"))
        .unwrap_or(k);
    k.trim_end_matches('/').to_string()
}

/// The docker server URL a credential helper is asked about.
fn helper_server(registry: &str) -> String {
    if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

/// Look up credentials for `registry`/`repository` in the auth files.
/// `Err` when a file or helper is there but unusable (named, no secret).
pub fn lookup(registry: &str, repository: &str) -> Result<Option<Found>, String> {
    for file in auth_files() {
        if let Some(f) = lookup_in(&file, registry, repository)? {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Look up credentials in one auth file (docker or podman format).
pub fn lookup_in(file: &Path, registry: &str, repository: &str) -> Result<Option<Found>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", file.display())),
    };
    let doc: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: malformed JSON: {e}", file.display()))?;
    let keys = keys_for(registry, repository);
    let norm_keys: Vec<String> = keys.iter().map(|k| normalize_key(k)).collect();
    let find = |section: &str| -> Option<serde_json::Value> {
        let obj = doc.get(section)?.as_object()?;
        for k in &norm_keys {
            for (ek, v) in obj {
                if normalize_key(ek) == *k {
                    return Some(v.clone());
                }
            }
        }
        None
    };
    if let Some(helper) = find("credHelpers").and_then(|v| v.as_str().map(String::from)) {
        return run_helper(&helper, registry, file);
    }
    if let Some(entry) = find("auths") {
        if let Some(auth) = entry.get("auth").and_then(|v| v.as_str()) {
            if !auth.is_empty() {
                return decode_auth(auth, file).map(|creds| {
                    Some(Found {
                        creds,
                        from: file.display().to_string(),
                    })
                });
            }
        }
        if let (Some(u), Some(p)) = (
            entry.get("username").and_then(|v| v.as_str()),
            entry.get("password").and_then(|v| v.as_str()),
        ) {
            return Ok(Some(Found {
                creds: Credentials {
                    username: u.to_string(),
                    secret: p.to_string(),
                },
                from: file.display().to_string(),
            }));
        }
    }
    if let Some(store) = doc.get("credsStore").and_then(|v| v.as_str()) {
        if !store.is_empty() {
            return run_helper(store, registry, file);
        }
    }
    Ok(None)
}

fn decode_auth(auth: &str, file: &Path) -> Result<Credentials, String> {
    let bad = || {
        format!(
            "{}: an `auth` entry is not base64 of user:password",
            file.display()
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (u, p) = raw.split_once(':').ok_or_else(bad)?;
    Ok(Credentials {
        username: u.to_string(),
        secret: p.to_string(),
    })
}

/// `docker-credential-NAME get` with the server URL on its standard input.
fn run_helper(name: &str, registry: &str, file: &Path) -> Result<Option<Found>, String> {
    let prog = format!("docker-credential-{name}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "{}: credential helper `{prog}` cannot be run: {e}",
                file.display()
            )
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(helper_server(registry).as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("credential helper `{prog}`: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if msg.to_lowercase().contains("not found") {
            return Ok(None);
        }
        return Err(format!(
            "credential helper `{prog}` failed ({})",
            out.status
        ));
    }
    #[derive(serde::Deserialize)]
    struct HelperOut {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let h: HelperOut = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("credential helper `{prog}` printed something other than its JSON"))?;
    if h.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Found {
        creds: Credentials {
            username: h.username,
            secret: h.secret,
        },
        from: format!("credential helper {prog}"),
    }))
}

/// A `WWW-Authenticate` challenge: scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }
}

/// Parse `Bearer realm="…",service="…",scope="…"` (quoted values may hold
/// commas).
pub fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = rest[ks..i].trim().to_string();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = rest[i..].chars().next()?;
                val.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            params.push((key, val));
        }
    }
    Some(Challenge {
        scheme: scheme.to_string(),
        params,
    })
}

/// Percent-encode a query value.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "Basic");
        assert_eq!(c.param("realm"), Some("Registry Realm"));
        assert_eq!(
            query_escape("repository:a/b:pull"),
            "repository%3Aa%2Fb%3Apull"
        );
    }

    #[test]
    fn auth_files_docker_and_podman() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.json");
        // "user:pa:ss" in base64; the secret may hold a colon.
        std::fs::write(
            &f,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
                "quay.io/org":{"auth":"b3JnOnM="}, "quay.io":{"auth":"YW55OnQ="}}}"#,
        )
        .unwrap();
        let hub = lookup_in(&f, DOCKER_HUB, "library/alpine")
            .unwrap()
            .unwrap();
        assert_eq!(hub.creds.username, "user");
        assert_eq!(hub.creds.secret, "pa:ss");
        assert!(!format!("{hub:?}").contains("pa:ss"));
        let org = lookup_in(&f, "quay.io", "org/app").unwrap().unwrap();
        assert_eq!(org.creds.username, "org");
        let other = lookup_in(&f, "quay.io", "x/app").unwrap().unwrap();
        assert_eq!(other.creds.username, "any");
        assert_eq!(lookup_in(&f, "ghcr.io", "x/app").unwrap(), None);
        assert_eq!(
            lookup_in(&dir.path().join("none.json"), "x", "y").unwrap(),
            None
        );
    }
}
