//! Image references: `[registry/]repo[:tag][@sha256:…]`, optionally written
//! `registry://…`, parsed the way `docker pull` reads them.

use std::fmt;

/// Docker Hub as written in references, and the host its API answers on.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host[:port] as written (`docker.io` for Docker Hub).
    pub registry: String,
    /// Repository path (`library/alpine` for `alpine`).
    pub repository: String,
    /// Tag (`latest` when neither a tag nor a digest is given).
    pub tag: Option<String>,
    /// `sha256:…` when pinned by digest.
    pub digest: Option<String>,
}

impl Reference {
    /// Host[:port] the registry API answers on.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The tag or digest to ask the manifest endpoint for.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// True for registries on this machine (localhost, 127.0.0.0/8, ::1),
    /// which are spoken to over plain HTTP like `docker` does by default.
    pub fn is_loopback(&self) -> bool {
        let host = host_of(&self.registry);
        host == "localhost"
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// The host of `host[:port]` (brackets of an IPv6 literal removed).
fn host_of(hostport: &str) -> &str {
    if let Some(rest) = hostport.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    hostport.split(':').next().unwrap_or(hostport)
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Names that are surely meant as files: a typo in a path must not turn
/// into a request to Docker Hub.
fn looks_like_path(s: &str) -> bool {
    const EXT: [&str; 7] = [".tar", ".tgz", ".gz", ".zst", ".tar.gz", ".tar.zst", ".oci"];
    s.starts_with('/')
        || s.starts_with('.')
        || s.starts_with('~')
        || s.ends_with('/')
        || s.contains("//")
        || (!s.contains('/') && EXT.iter().any(|e| s.ends_with(e)))
}

/// Parse a reference. `Ok(None)` when `arg` is not written like one (it is
/// then taken as a path); `Err` when it is `registry://…` but malformed.
pub fn parse(arg: &str) -> Result<Option<Reference>, String> {
    let (explicit, s) = match arg.strip_prefix("registry://") {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    if !explicit && looks_like_path(s) {
        return Ok(None);
    }
    match parse_inner(s) {
        Ok(r) => Ok(Some(r)),
        Err(e) if explicit => Err(e),
        Err(_) => Ok(None),
    }
}

fn parse_inner(s: &str) -> Result<Reference, String> {
    if s.is_empty() {
        return Err("empty image reference".into());
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => {
            let hex = d
                .strip_prefix("sha256:")
                .ok_or_else(|| format!("digest {d:?} is not sha256:<64 hex digits>"))?;
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(format!("digest {d:?} is not sha256:<64 hex digits>"));
            }
            (r, Some(d.to_string()))
        }
        None => (s, None),
    };
    // A tag is a `:` after the last `/` (a `:` before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let t = &rest[last_slash + i + 1..];
            if t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                || t.starts_with(['.', '-'])
            {
                return Err(format!("{t:?} is not a valid tag"));
            }
            (&rest[..last_slash + i], Some(t.to_string()))
        }
        None => (rest, None),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), path.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    if repository.is_empty()
        || !repository.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
        })
    {
        return Err(format!(
            "{name:?} is not a valid repository name (lowercase letters, digits, '.', '_', '-', '/')"
        ));
    }
    if registry.is_empty()
        || !registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err(format!("{registry:?} is not a valid registry host"));
    }
    let tag = if tag.is_none() && digest.is_none() {
        Some("latest".to_string())
    } else {
        tag
    };
    Ok(Reference {
        registry,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        parse(s).unwrap().unwrap()
    }

    #[test]
    fn docker_hub_short_names() {
        let r = p("alpine:3");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.tag.as_deref(), Some("3"));
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(p("org/app").tag.as_deref(), Some("latest"));
        assert_eq!(p("org/app").repository, "org/app");
    }

    #[test]
    fn registries_ports_digests() {
        let r = p("127.0.0.1:5000/a/b:v1");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "a/b")
        );
        assert!(r.is_loopback());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("ghcr.io/org/app@{d}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        assert!(!r.is_loopback());
        let r = p(&format!("registry://localhost/app:1@{d}"));
        assert_eq!(r.registry, "localhost");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.to_string(), format!("localhost/app:1@{d}"));
    }

    #[test]
    fn paths_are_not_references() {
        for s in [
            "./x",
            "/tmp/img",
            "img.tar",
            "img.tar.zst",
            "Upper/Case",
            "a//b",
            "x@sha256:12",
        ] {
            assert_eq!(parse(s), Ok(None), "{s}");
        }
        assert!(parse("registry://Upper").is_err());
        assert!(parse("registry://x@md5:00").is_err());
    }
}
