//! Signed, durable, SSRF-safe webhooks.
//!
//! [`WebhookNotifier`] is the [`Notifier`] named `webhook`. When a job with a `webhook_url`
//! ends, the journal writes its [`Delivery`] into its outbox in the same transaction as the
//! terminal state change; the pipeline's dispatcher then POSTs it with [`WebhookNotifier`]
//! until the receiver answers 2xx, answers 410, keeps refusing with another 4xx, or the
//! delivery is older than [`DeliveryRetry::max_age`]. Every attempt becomes a
//! `notification_sent` / `notification_failed` event. Delivery is at least once: receivers
//! deduplicate on the `webhook-id` header, which is the same on every attempt.
//!
//! Requests follow the [Standard Webhooks](https://www.standardwebhooks.com/) scheme:
//!
//! ```text
//! POST <url>
//! content-type: application/json
//! user-agent: ytcaption/<version>
//! webhook-id: <the terminal event's id>
//! webhook-timestamp: <unix seconds of this attempt>
//! webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>
//!
//! {"type":"transcription_completed","job_id":"…","status":"completed",
//!  "result_urls":{"srt":"s3://…"},"timestamp":"2026-11-28T01:02:03.456Z"}
//! ```
//!
//! Before every attempt (and at submit) the host is resolved and each address checked by
//! [`Allowlist::check`]; the request then goes to exactly the checked addresses, so a DNS
//! answer that changes in between cannot redirect it, and redirects are never followed.

#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

#[cfg(feature = "http")]
use async_trait::async_trait;
use base64::Engine as _;
#[cfg(feature = "http")]
use chrono::Utc;
use hmac::{KeyInit, Mac};
use ipnet::IpNet;

#[cfg(feature = "http")]
use super::{Delivered, Notifier, NotifyError};
use crate::error::{Error, Result};
#[cfg(feature = "http")]
use crate::event::EventKind;
#[cfg(feature = "http")]
use crate::job::Job;
pub use crate::journal::Delivery;

/// The `User-Agent` of every webhook request.
pub const USER_AGENT: &str = concat!("ytcaption/", env!("CARGO_PKG_VERSION"));

/// A Standard Webhooks signing secret: `whsec_` followed by base64 of the key bytes.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl FromStr for WebhookSecret {
    type Err = Error;

    /// Parses `whsec_<base64>` (at least 16 key bytes).
    ///
    /// ```
    /// use ytcaption::notify::webhook::WebhookSecret;
    /// assert!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse::<WebhookSecret>().is_ok());
    /// assert_eq!("hunter2".parse::<WebhookSecret>().unwrap_err().code(), "invalid_input");
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let b64 = s.trim().strip_prefix("whsec_").ok_or_else(|| {
            Error::invalid("webhook secrets look like whsec_<base64 of 16 to 64 random bytes>")
        })?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| {
                Error::invalid(format!(
                    "webhook secret: the part after whsec_ is not base64: {e}"
                ))
            })?;
        if key.len() < 16 {
            return Err(Error::invalid(
                "webhook secret: at least 16 key bytes are needed (24+ base64 characters)",
            ));
        }
        Ok(WebhookSecret(key))
    }
}

impl WebhookSecret {
    /// A secret from raw key bytes.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Self {
        WebhookSecret(key.into())
    }

    /// The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    ///
    /// ```
    /// use ytcaption::notify::webhook::WebhookSecret;
    /// // The example of the Standard Webhooks specification.
    /// let s: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
    /// assert_eq!(
    ///     s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
    ///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    /// );
    /// ```
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }
}

/// Hosts, addresses and networks that webhooks may reach even though they are not public
/// (`localhost`, `127.0.0.1`, `10.0.0.0/8`, `::1`). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl FromStr for Allowlist {
    type Err = Error;

    /// Comma-separated hosts, IPs or CIDRs; blanks are ignored.
    ///
    /// ```
    /// use ytcaption::notify::webhook::Allowlist;
    /// let a: Allowlist = "hooks.internal, 127.0.0.1, 10.0.0.0/8, ::1".parse().unwrap();
    /// assert!(a.admits_ip("10.1.2.3".parse().unwrap()));
    /// assert!(!a.admits_ip("192.168.0.1".parse().unwrap()));
    /// assert!("10.0.0.0/99".parse::<Allowlist>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let mut a = Allowlist::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let bare = item.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                a.nets.push(IpNet::from(ip));
            } else if item.contains('/') {
                a.nets.push(item.parse().map_err(|e| {
                    Error::invalid(format!("webhook allowlist: {item:?} is not a CIDR: {e}"))
                })?);
            } else if item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                a.hosts.push(item.to_ascii_lowercase());
            } else {
                return Err(Error::invalid(format!(
                    "webhook allowlist: {item:?} is not a host name, IP or CIDR"
                )));
            }
        }
        Ok(a)
    }
}

impl Allowlist {
    /// Whether nothing is allowlisted.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.nets.is_empty()
    }

    /// Whether `ip` is inside an allowlisted address or network.
    pub fn admits_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    #[cfg(feature = "http")]
    fn admits_host(&self, host: &str) -> bool {
        let h = host.to_ascii_lowercase();
        self.hosts.contains(&h)
    }

    #[cfg(feature = "http")]
    /// Checks a webhook URL: http or https, a host that resolves, and every address it
    /// resolves to public or allowlisted. Returns the URL, its host and the addresses to
    /// connect to (the checked ones, nothing else).
    pub async fn check(&self, url: &str) -> Result<CheckedUrl> {
        let refuse = |reason: String| Error::WebhookRefused {
            url: url.to_string(),
            reason,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| refuse(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse("only http:// and https:// URLs are allowed".into()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse("credentials in the URL are not allowed".into()));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(refuse("the URL has no host".into())),
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            _ => {
                let lookup = tokio::time::timeout(
                    Duration::from_secs(10),
                    tokio::net::lookup_host((host.as_str(), port)),
                )
                .await
                .map_err(|_| refuse(format!("resolving {host} timed out")))?
                .map_err(|e| refuse(format!("cannot resolve {host}: {e}")))?;
                lookup.collect()
            }
        };
        if addrs.is_empty() {
            return Err(refuse(format!("{host} resolves to no address")));
        }
        if !self.admits_host(&host) {
            for a in &addrs {
                if let Some(why) = forbidden_reason(a.ip()) {
                    if !self.admits_ip(a.ip()) {
                        return Err(refuse(format!(
                            "{host} resolves to {} ({why}); add it to the webhook allowlist (YTCAPTION_WEBHOOK_ALLOWLIST) to allow it",
                            a.ip()
                        )));
                    }
                }
            }
        }
        Ok(CheckedUrl {
            url: parsed,
            host,
            addrs,
        })
    }
}

#[cfg(feature = "http")]
/// A webhook URL that passed [`Allowlist::check`].
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    /// The parsed URL.
    pub url: reqwest::Url,
    /// Its host (a name, or an IP literal without brackets).
    pub host: String,
    /// The checked addresses; requests go to these only.
    pub addrs: Vec<SocketAddr>,
}

/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and
/// 6to4 (`2002::/16`) addresses are judged by the IPv4 address they carry.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Why `ip` may not receive webhooks (`None`: it is a public address).
///
/// ```
/// use ytcaption::notify::webhook::forbidden_reason;
/// assert!(forbidden_reason("169.254.169.254".parse().unwrap()).is_some());
/// assert!(forbidden_reason("::ffff:127.0.0.1".parse().unwrap()).is_some());
/// assert!(forbidden_reason("93.184.215.14".parse().unwrap()).is_none());
/// ```
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return forbidden_v4(v4)
                    .map(|_| "an IPv6 address carrying a non-public IPv4 address");
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xffc0 == 0xfec0 {
                Some("site-local")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("unique-local (private; includes cloud metadata fd00:ec2::254)")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("documentation")
            } else if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
                Some("discard-only")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("cloud metadata")
    } else if o[0] == 0 {
        Some("unspecified / this network")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("carrier-grade NAT")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("reserved")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments (includes cloud metadata 192.0.0.192)")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking")
    } else if ip.is_documentation() {
        Some("documentation")
    } else {
        None
    }
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DeliveryRetry {
    /// Delay after the first failed attempt (default 5 s); it doubles after each one.
    pub initial_delay: Duration,
    /// Longest delay between attempts (default 1 h).
    pub max_delay: Duration,
    /// A delivery older than this is given up (default 24 h).
    pub max_age: Duration,
    /// Attempts answered with a 4xx other than 408, 410 and 429 before giving up (default 3).
    pub max_client_error_attempts: u32,
    /// Timeout of one request (default 10 s).
    pub timeout: Duration,
}

impl Default for DeliveryRetry {
    fn default() -> Self {
        DeliveryRetry {
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
            max_client_error_attempts: 3,
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryRetry {
    /// The delay before attempt `attempts + 1`: exponential, capped, with ±20% jitter.
    pub fn delay(&self, attempts: u32) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        let base = exp.min(self.max_delay);
        // Jitter from the standard library's randomly keyed hasher: no RNG dependency.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(attempts);
        let unit = (h.finish() % 10_000) as f64 / 10_000.0; // [0, 1)
        base.mul_f64(0.8 + 0.4 * unit)
    }
}

/// Everything the webhook dispatcher needs: signing secret, allowlist and retry policy.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// The signing secret. Without one, deliveries are not sent (they fail and are retried
    /// until one is configured or they age out): receivers must be able to verify them.
    pub secret: Option<WebhookSecret>,
    /// Non-public destinations that are allowed anyway.
    pub allowlist: Allowlist,
    /// When to retry.
    pub retry: DeliveryRetry,
}

impl WebhookConfig {
    /// Reads `YTCAPTION_WEBHOOK_SECRET` and `YTCAPTION_WEBHOOK_ALLOWLIST` (both optional).
    pub fn from_env() -> Result<Self> {
        let mut c = WebhookConfig::default();
        if let Ok(s) = std::env::var("YTCAPTION_WEBHOOK_SECRET") {
            if !s.trim().is_empty() {
                c.secret = Some(s.parse()?);
            }
        }
        if let Ok(a) = std::env::var("YTCAPTION_WEBHOOK_ALLOWLIST") {
            c.allowlist = a.parse()?;
        }
        Ok(c)
    }

    /// Sets the signing secret.
    pub fn secret(mut self, s: WebhookSecret) -> Self {
        self.secret = Some(s);
        self
    }

    /// Sets the allowlist.
    pub fn allowlist(mut self, a: Allowlist) -> Self {
        self.allowlist = a;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, r: DeliveryRetry) -> Self {
        self.retry = r;
        self
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// The receiver answered something else, or could not be reached.
    Failed {
        /// The status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// Whether trying again can help (`false`: 410, or the URL is refused).
        retryable: bool,
    },
}

#[cfg(feature = "http")]
/// Sends [`Delivery`]s: checks the destination, signs, POSTs.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    config: WebhookConfig,
}

#[cfg(feature = "http")]
impl WebhookNotifier {
    /// A notifier with this configuration.
    pub fn new(config: WebhookConfig) -> Self {
        WebhookNotifier { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Makes one attempt at `d` (does not touch the journal).
    pub async fn attempt(&self, d: &Delivery) -> Attempt {
        let Some(secret) = &self.config.secret else {
            return Attempt::Failed {
                status: None,
                error: "no webhook signing secret is configured (YTCAPTION_WEBHOOK_SECRET)".into(),
                retryable: true,
            };
        };
        let checked = match self.config.allowlist.check(&d.target).await {
            Ok(c) => c,
            // DNS trouble may pass: retried. A refused address is policy: given up.
            Err(e @ Error::WebhookRefused { .. }) if is_dns_failure(&e) => {
                return Attempt::Failed {
                    status: None,
                    error: e.to_string(),
                    retryable: true,
                }
            }
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: e.to_string(),
                    retryable: false,
                }
            }
        };
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.config.retry.timeout)
            .connect_timeout(self.config.retry.timeout)
            .user_agent(USER_AGENT)
            .no_proxy()
            .resolve_to_addrs(&checked.host, &checked.addrs)
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: format!("cannot build the HTTP client: {e}"),
                    retryable: true,
                }
            }
        };
        let id = d.event_id.to_string();
        let ts = Utc::now().timestamp();
        let sig = secret.sign(&id, ts, d.body.as_bytes());
        let res = client
            .post(checked.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(d.body.clone())
            .send()
            .await;
        match res {
            Ok(r) => {
                let status = r.status().as_u16();
                if r.status().is_success() {
                    Attempt::Delivered { status }
                } else {
                    let retryable = match status {
                        410 => false,
                        408 | 429 => true,
                        400..=499 => d.attempts + 1 < self.config.retry.max_client_error_attempts,
                        _ => true,
                    };
                    let what = if r.status().is_redirection() {
                        " (redirects are not followed)"
                    } else if status == 410 {
                        " (the receiver asked to stop)"
                    } else {
                        ""
                    };
                    Attempt::Failed {
                        status: Some(status),
                        error: format!("the receiver answered {}{what}", r.status()),
                        retryable,
                    }
                }
            }
            Err(e) => Attempt::Failed {
                status: None,
                error: format!("request failed: {}", error_chain(&e)),
                retryable: true,
            },
        }
    }
}

#[cfg(feature = "http")]
#[async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        super::WEBHOOK_NOTIFIER
    }

    /// The job's `webhook_url`, when it has one.
    fn target(&self, job: &Job, _event: &EventKind) -> Option<String> {
        job.webhook_url.clone()
    }

    fn retry(&self) -> DeliveryRetry {
        self.config.retry
    }

    async fn notify(
        &self,
        _job: &Job,
        d: &Delivery,
    ) -> std::result::Result<Delivered, NotifyError> {
        match self.attempt(d).await {
            Attempt::Delivered { status } => Ok(Delivered::with_status(status)),
            Attempt::Failed {
                status,
                error,
                retryable,
            } => Err(NotifyError {
                message: error,
                retryable,
                status,
            }),
        }
    }
}

#[cfg(feature = "http")]
fn is_dns_failure(e: &Error) -> bool {
    match e {
        Error::WebhookRefused { reason, .. } => {
            reason.starts_with("cannot resolve")
                || reason.starts_with("resolving")
                || reason.ends_with("resolves to no address")
        }
        _ => false,
    }
}

#[cfg(feature = "http")]
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.192",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(forbidden_reason(ip).is_some(), "{ip} should be refused");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_reason(ip), None, "{ip} is public");
        }
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn check_refuses_private_unless_allowlisted() {
        let none = Allowlist::default();
        for url in [
            "http://127.0.0.1:9/h",
            "http://10.0.0.1/h",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9/h",
            "http://[::ffff:127.0.0.1]:9/h",
            "http://localhost:9/h",
            "ftp://example.com/x",
            "http://user:pw@1.1.1.1/",
            "not a url",
        ] {
            let e = none.check(url).await.unwrap_err();
            assert_eq!(e.code(), "webhook_refused", "{url}: {e}");
        }
        let lo: Allowlist = "127.0.0.1,::1".parse().unwrap();
        let c = lo.check("http://127.0.0.1:9/h").await.unwrap();
        assert_eq!(c.addrs, vec!["127.0.0.1:9".parse().unwrap()]);
        lo.check("http://[::ffff:127.0.0.1]:9/h").await.unwrap();
        lo.check("http://[::1]:9/h").await.unwrap();
        assert!(lo.check("http://10.0.0.1/h").await.is_err());
        let by_name: Allowlist = "LocalHost".parse().unwrap();
        by_name.check("http://localhost:9/h").await.unwrap();
        let cidr: Allowlist = "10.0.0.0/8".parse().unwrap();
        cidr.check("http://10.0.0.1/h").await.unwrap();
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = DeliveryRetry::default();
        let d1 = p.delay(1).as_secs_f64();
        assert!((4.0..=6.0).contains(&d1), "{d1}");
        let d3 = p.delay(3).as_secs_f64();
        assert!((16.0..=24.0).contains(&d3), "{d3}");
        let d30 = p.delay(30).as_secs_f64();
        assert!((3600.0 * 0.8..=3600.0 * 1.2).contains(&d30), "{d30}");
    }

    #[test]
    fn secrets_are_redacted_and_validated() {
        let s: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        assert_eq!(format!("{s:?}"), "WebhookSecret(<redacted>)");
        assert!("whsec_AAAA".parse::<WebhookSecret>().is_err());
        assert!("whsec_!!!".parse::<WebhookSecret>().is_err());
    }
}
