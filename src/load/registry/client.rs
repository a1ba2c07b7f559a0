//! The registry API over HTTP(S) with ureq (blocking, rustls): GET with the
//! auth dance (anonymous first, then a bearer token from the challenge's
//! realm, or basic credentials), errors turned into one line each.

use std::sync::Mutex;
use std::time::Duration;

use super::auth::{self, Credentials, Found};
use super::reference::Reference;

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plain HTTP (no TLS). Loopback registries always use it.
    pub insecure: bool,
    /// No byte from the registry for this long is an error.
    pub timeout: Duration,
    /// `--username` with `--password-stdin`.
    pub credentials: Option<Credentials>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            insecure: false,
            timeout: Duration::from_secs(30),
            credentials: None,
        }
    }
}

pub type Response = ureq::http::Response<ureq::Body>;

pub struct Client {
    agent: ureq::Agent,
    base: String,
    reference: Reference,
    timeout: Duration,
    flag_creds: Option<Credentials>,
    /// Credentials from auth files, looked up on the first challenge.
    found: Mutex<Option<Option<Found>>>,
    /// The `Authorization` value that worked last (a token or basic).
    authorization: Mutex<Option<String>>,
}

/// Largest manifest, index or config accepted.
pub const MAX_DOCUMENT: u64 = 16 * 1024 * 1024;

impl Client {
    pub fn new(reference: &Reference, opts: &Options) -> Client {
        let plain = opts.insecure || reference.is_loopback();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(opts.timeout))
            .timeout_per_read(Some(opts.timeout))
            .timeout_per_write(Some(opts.timeout))
            .user_agent(concat!("imgscope/", env!("CARGO_PKG_VERSION")))
            .max_redirects(10)
            .build();
        Client {
            agent: config.into(),
            base: format!(
                "{}://{}",
                if plain { "http" } else { "https" },
                reference.api_host()
            ),
            reference: reference.clone(),
            timeout: opts.timeout,
            flag_creds: opts.credentials.clone(),
            found: Mutex::new(None),
            authorization: Mutex::new(None),
        }
    }

    pub fn repository(&self) -> &str {
        &self.reference.repository
    }

    pub fn host(&self) -> &str {
        self.reference.api_host()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.reference.repository)
    }

    /// Credentials for this registry: the flags', else the auth files'.
    fn credentials(&self) -> Result<Option<(Credentials, String)>, String> {
        if let Some(c) = &self.flag_creds {
            return Ok(Some((c.clone(), "--username".to_string())));
        }
        let mut found = self.found.lock().unwrap();
        if found.is_none() {
            *found = Some(auth::lookup(
                &self.reference.registry,
                &self.reference.repository,
            )?);
        }
        Ok(found
            .clone()
            .flatten()
            .map(|f| (f.creds.clone(), f.from.clone())))
    }

    fn send(
        &self,
        url: &str,
        accept: Option<&str>,
        authz: Option<&str>,
    ) -> Result<Response, String> {
        let mut req = self.agent.get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if let Some(a) = authz {
            req = req.header("Authorization", a);
        }
        req.call().map_err(|e| self.describe(e))
    }

    /// GET `/v2/<repo>/<path>`: anonymous (or with what worked before),
    /// then once more after answering a 401's challenge.
    pub fn get(&self, path: &str, accept: Option<&str>) -> Result<Response, String> {
        let url = self.url(path);
        let current = self.authorization.lock().unwrap().clone();
        let resp = self.send(&url, accept, current.as_deref())?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge);
        let creds = self.credentials()?;
        let authz = match &challenge {
            Some(c) if c.scheme.eq_ignore_ascii_case("bearer") => {
                self.token(c, creds.as_ref().map(|(c, _)| c))?
            }
            Some(c) if c.scheme.eq_ignore_ascii_case("basic") => match &creds {
                Some((c, _)) => c.basic_header(),
                None => return Err(self.unauthorized(None)),
            },
            _ => return Err(self.unauthorized(creds.as_ref().map(|c| c.1.as_str()))),
        };
        let resp = self.send(&url, accept, Some(&authz))?;
        if resp.status() == 401 || resp.status() == 403 {
            return Err(self.unauthorized(creds.as_ref().map(|c| c.1.as_str())));
        }
        *self.authorization.lock().unwrap() = Some(authz);
        Ok(resp)
    }

    fn unauthorized(&self, tried: Option<&str>) -> String {
        match tried {
            None => format!(
                "the registry {} wants credentials (HTTP 401): pass --username with \
                 --password-stdin, or log in with `docker login` / `podman login`",
                self.reference.registry
            ),
            Some(from) => format!(
                "the registry {} refused the credentials from {from} (HTTP 401)",
                self.reference.registry
            ),
        }
    }

    /// A bearer token from the challenge's realm for pulling this repository.
    fn token(&self, c: &auth::Challenge, creds: Option<&Credentials>) -> Result<String, String> {
        let realm = c
            .param("realm")
            .ok_or("the registry's bearer challenge names no realm")?;
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(format!(
                "the registry's token realm {realm:?} is not an http(s) URL"
            ));
        }
        let scope = c
            .param("scope")
            .map(String::from)
            .unwrap_or_else(|| format!("repository:{}:pull", self.reference.repository));
        let mut url = format!("{realm}{}", if realm.contains('?') { "&" } else { "?" });
        if let Some(s) = c.param("service") {
            url.push_str(&format!("service={}&", auth::query_escape(s)));
        }
        url.push_str(&format!("scope={}", auth::query_escape(&scope)));
        let basic = creds.map(Credentials::basic_header);
        let mut resp = self.send(&url, Some("application/json"), basic.as_deref())?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            return Err(match creds {
                None => self.unauthorized(None),
                Some(_) => format!(
                    "the token service of {} refused the credentials (HTTP {status})",
                    self.reference.registry
                ),
            });
        }
        if status != 200 {
            return Err(format!(
                "the token service of {} answered HTTP {status}",
                self.reference.registry
            ));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT)
            .read_to_vec()
            .map_err(|e| self.describe(e))?;
        #[derive(serde::Deserialize)]
        struct Token {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body)
            .map_err(|_| "the token service answered something other than a token".to_string())?;
        t.token
            .filter(|t| !t.is_empty())
            .or(t.access_token)
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| "the token service answered no token".to_string())
    }

    /// A transport error in one line.
    pub fn describe(&self, e: ureq::Error) -> String {
        let host = self.reference.api_host();
        match e {
            ureq::Error::Timeout(_) => format!(
                "{host} sent nothing for {}s (--timeout)",
                self.timeout.as_secs_f64()
            ),
            ureq::Error::HostNotFound => format!("registry host {host} not found"),
            ureq::Error::ConnectionFailed => format!("cannot connect to {host}"),
            ureq::Error::Io(io) => describe_io(host, &io, self.timeout),
            ureq::Error::Tls(m) => {
                format!("TLS with {host} failed: {m} (a plain-HTTP registry needs --insecure)")
            }
            ureq::Error::TooManyRedirects => format!("{host}: too many redirects"),
            other => format!("{host}: {other}"),
        }
    }
}

/// An I/O error while talking to `host`, in words.
pub fn describe_io(host: &str, io: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind::*;
    match io.kind() {
        TimedOut | WouldBlock => format!(
            "{host} sent nothing for {}s (--timeout)",
            timeout.as_secs_f64()
        ),
        ConnectionRefused => format!("cannot connect to {host}: connection refused"),
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
            format!("{host} closed the connection")
        }
        _ => {
            // ureq wraps its own errors (a timeout mid-body) in io::Error.
            let s = io.to_string();
            if s.to_lowercase().contains("timeout") || s.to_lowercase().contains("timed out") {
                format!(
                    "{host} sent nothing for {}s (--timeout)",
                    timeout.as_secs_f64()
                )
            } else {
                format!("{host}: {s}")
            }
        }
    }
}

/// The message of a registry's JSON error body (`{"errors":[{"code","message"}]}`),
/// on one line.
pub fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = v.get("errors")?.as_array()?.first()?;
    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
    let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
    let s = format!("{code}: {msg}");
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Some(s)
}
