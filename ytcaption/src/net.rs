//! The egress policy: where ytcaption's own outgoing connections may go.
//!
//! Media downloads (the `GET` and the caching `HEAD`), webhook deliveries and model downloads
//! all go through this one policy. A destination is refused when it is not a public address —
//! loopback, private (RFC 1918), link-local (including the cloud metadata address
//! `169.254.169.254`), carrier-grade NAT, unique-local and site-local IPv6, multicast,
//! unspecified (`0.0.0.0`, `::`), reserved, benchmarking and documentation ranges, and the
//! IPv6 forms that carry such an IPv4 address (`::ffff:127.0.0.1`, `::127.0.0.1`, NAT64,
//! 6to4) — unless the [`Allowlist`] (setting `allow_network`, flag `--allow-network`,
//! variable `YTCAPTION_ALLOW_NETWORK`) admits it by host name, address or network.
//!
//! How it is enforced for media and model downloads (feature `http`):
//! * host names are resolved by [`EgressResolver`], which hands the HTTP client only the
//!   addresses that pass, so the connection goes to exactly a checked address and a DNS answer
//!   that changes between a check and the connect (DNS rebinding) cannot slip through;
//! * IP literals (which no resolver sees) are checked by [`check_url`] before the request and
//!   on every redirect hop by [`redirect_policy`], which also refuses a redirect from
//!   `https://` to `http://` and to any other scheme;
//! * environment proxies are not used (the policy must see the real destination).
//!
//! A refused destination fails with the code `destination_refused` (media and models) or
//! `webhook_refused` (a webhook URL). Nothing is connected to, so the error says the same
//! whether or not anything listens there.
//!
//! YouTube URLs are fetched by the `yt-dlp` program, whose connections this policy cannot
//! filter; they go only to YouTube's hosts by construction of the route.

#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
#[cfg(feature = "http")]
use std::sync::Arc;
#[cfg(feature = "http")]
use std::time::Duration;

use crate::error::DownloadErrorKind;

use ipnet::IpNet;

use crate::error::{Error, Result};

/// The setting that holds the allowlist, for messages.
pub const ALLOW_NETWORK_HINT: &str = "allow_network (--allow-network, YTCAPTION_ALLOW_NETWORK)";

/// Hosts, addresses and networks that outgoing connections may reach even though they are
/// not public (`localhost`, `127.0.0.1`, `10.0.0.0/8`, `::1`). Empty by default: public
/// addresses only.
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
    /// use ytcaption::net::Allowlist;
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
                a.nets.push(IpNet::from(canonical(ip)));
            } else if item.contains('/') {
                let net: IpNet = item.parse().map_err(|e| {
                    Error::invalid(format!("allowlist: {item:?} is not a CIDR: {e}"))
                })?;
                a.nets.push(net);
            } else if item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                a.hosts
                    .push(item.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(Error::invalid(format!(
                    "allowlist: {item:?} is not a host name, IP or CIDR"
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

    /// Whether the host name `host` is allowlisted (ASCII case and a trailing dot ignored).
    pub fn admits_host(&self, host: &str) -> bool {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&h)
    }

    /// Whether a connection to `ip`, reached through the host name `host` (`None` for an IP
    /// literal), is allowed: `Ok` for a public address or one the list admits, else why not.
    ///
    /// ```
    /// use ytcaption::net::Allowlist;
    /// let none = Allowlist::default();
    /// assert!(none.admits(None, "8.8.8.8".parse().unwrap()).is_ok());
    /// assert_eq!(none.admits(None, "127.0.0.1".parse().unwrap()), Err("loopback"));
    /// let lo: Allowlist = "localhost".parse().unwrap();
    /// assert!(lo.admits(Some("localhost"), "127.0.0.1".parse().unwrap()).is_ok());
    /// ```
    pub fn admits(&self, host: Option<&str>, ip: IpAddr) -> std::result::Result<(), &'static str> {
        match forbidden_reason(ip) {
            None => Ok(()),
            Some(_) if self.admits_ip(ip) || host.is_some_and(|h| self.admits_host(h)) => Ok(()),
            Some(why) => Err(why),
        }
    }

    #[cfg(feature = "http")]
    /// Checks a webhook URL: http or https, no credentials, a host that resolves, and every
    /// address it resolves to public or allowlisted. Returns the URL, its host and the
    /// addresses to connect to (the checked ones, nothing else). Refusals are
    /// [`Error::WebhookRefused`].
    pub async fn check(&self, url: &str) -> Result<CheckedUrl> {
        let shown = crate::redact::url(url);
        let refuse = |reason: String| Error::WebhookRefused {
            url: shown.clone(),
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
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        let addrs: Vec<SocketAddr> = match literal {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => {
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
        let name = literal.is_none().then_some(host.as_str());
        for a in &addrs {
            if let Err(why) = self.admits(name, a.ip()) {
                let what = match literal {
                    Some(ip) => format!("{ip} is {why}"),
                    None => format!("{host} resolves to a non-public address ({why})"),
                };
                return Err(refuse(format!(
                    "{what}; add it to the allowlist, {ALLOW_NETWORK_HINT}, to allow it"
                )));
            }
        }
        Ok(CheckedUrl {
            url: parsed,
            host,
            addrs,
        })
    }
}

impl std::fmt::Display for Allowlist {
    /// The list as it is parsed: `localhost,127.0.0.1/32,10.0.0.0/8`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self
            .hosts
            .iter()
            .cloned()
            .chain(self.nets.iter().map(|n| n.to_string()))
            .collect();
        f.write_str(&items.join(","))
    }
}

#[cfg(feature = "http")]
/// A URL that passed [`Allowlist::check`].
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

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Why `ip` is not a public address (`None`: it is one).
///
/// ```
/// use ytcaption::net::forbidden_reason;
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

/// Why the policy refused a destination: the cause inside an HTTP client error, turned into
/// a `destination_refused` error by [`refused_error`].
#[derive(Debug, Clone)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "destination refused: {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// Checks what a resolver never sees: the scheme (http or https) and an IP-literal host. Host
/// names are checked when [`EgressResolver`] resolves them.
pub fn check_url(allow: &Allowlist, url: &url::Url) -> std::result::Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused(format!(
            "only http:// and https:// URLs are fetched, not {}://",
            url.scheme()
        )));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(Refused("the URL has no host".into())),
    };
    allow.admits(None, ip).map_err(|why| {
        Refused(format!(
            "{ip} is not a public address ({why}); add it to {ALLOW_NETWORK_HINT} to allow it"
        ))
    })
}

/// Checks `url` ([`check_url`]) and, for a host name, every address it resolves to now: for
/// programs that make their own connections (yt-dlp on a non-YouTube URL), where the policy
/// cannot sit in the resolver. Resolution failures pass (the program reports them).
pub async fn check_resolved(allow: &Allowlist, url: &url::Url) -> std::result::Result<(), Refused> {
    check_url(allow, url)?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let Ok(Ok(found)) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::lookup_host((host, port)),
    )
    .await
    else {
        return Ok(());
    };
    for a in found {
        if let Err(why) = allow.admits(Some(host), a.ip()) {
            return Err(Refused(format!(
                "{host} resolves to a non-public address ({why}); add the host to \
                 {ALLOW_NETWORK_HINT} to allow it"
            )));
        }
    }
    Ok(())
}

#[cfg(feature = "http")]
/// A DNS resolver for reqwest that passes on only the addresses the [`Allowlist`] admits (all
/// public addresses, and the allowlisted ones). A name left with no address fails with
/// [`Refused`], so nothing is connected to.
#[derive(Debug, Clone, Default)]
pub struct EgressResolver {
    allow: Arc<Allowlist>,
}

#[cfg(feature = "http")]
impl EgressResolver {
    /// A resolver enforcing `allow`.
    pub fn new(allow: Arc<Allowlist>) -> Self {
        EgressResolver { allow }
    }
}

#[cfg(feature = "http")]
impl reqwest::dns::Resolve for EgressResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut why = None;
            let passed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match allow.admits(Some(&host), a.ip()) {
                    Ok(()) => true,
                    Err(w) => {
                        why.get_or_insert(w);
                        false
                    }
                })
                .collect();
            match (passed.is_empty(), why) {
                (true, Some(why)) => Err(Box::new(Refused(format!(
                    "{host} resolves to a non-public address ({why}); add the host to \
                     {ALLOW_NETWORK_HINT} to allow it"
                )))
                    as Box<dyn std::error::Error + Send + Sync>),
                (true, None) => Err(format!("{host} resolves to no address").into()),
                (false, _) => Ok(Box::new(passed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// Checks one redirect hop from `from` to `to`: no `https://` → `http://` downgrade, http(s)
/// only, an IP literal by the [`Allowlist`] (a host name is checked when it is resolved).
///
/// ```
/// use ytcaption::net::{check_hop, Allowlist};
/// let u = |s: &str| url::Url::parse(s).unwrap();
/// let none = Allowlist::default();
/// assert!(check_hop(&none, &u("https://a.example/x"), &u("http://a.example/x")).is_err());
/// assert!(check_hop(&none, &u("http://a.example/x"), &u("https://b.example/y")).is_ok());
/// assert!(check_hop(&none, &u("https://a.example/x"), &u("https://10.0.0.1/")).is_err());
/// ```
pub fn check_hop(
    allow: &Allowlist,
    from: &url::Url,
    to: &url::Url,
) -> std::result::Result<(), Refused> {
    let shown = crate::redact::url(to.as_str());
    if from.scheme() == "https" && to.scheme() != "https" {
        return Err(Refused(format!(
            "redirect from https:// to {shown}: a downgrade to plain http is not followed"
        )));
    }
    check_url(allow, to).map_err(|e| Refused(format!("redirect to {shown}: {}", e.0)))
}

#[cfg(feature = "http")]
/// A redirect policy that follows at most `max` redirects and checks every hop with
/// [`check_hop`].
pub fn redirect_policy(allow: Arc<Allowlist>, max: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            let e = TooManyRedirects(max);
            return attempt.error(e);
        }
        let checked = match attempt.previous().last() {
            Some(from) => check_hop(&allow, from, attempt.url()),
            None => check_url(&allow, attempt.url()),
        };
        match checked {
            Ok(()) => attempt.follow(),
            Err(e) => attempt.error(e),
        }
    })
}

#[cfg(feature = "http")]
#[derive(Debug)]
struct TooManyRedirects(usize);

#[cfg(feature = "http")]
impl std::fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} redirects", self.0)
    }
}

#[cfg(feature = "http")]
impl std::error::Error for TooManyRedirects {}

/// The policy's refusal inside an error's cause chain, if it is one.
pub fn refused_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur = Some(e);
    while let Some(x) = cur {
        if let Some(r) = x.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = x.source();
    }
    None
}

/// The `destination_refused` error for fetching `shown_url` (already redacted).
pub fn refused_error(shown_url: &str, r: &Refused) -> Error {
    Error::download(
        DownloadErrorKind::DestinationRefused,
        format!("{shown_url}: {}", r.0),
    )
}

#[cfg(feature = "http")]
/// A reqwest client builder with the policy in place: the filtering resolver, the checked
/// redirects (at most `max_redirects`), no environment proxies.
pub fn client_builder(allow: &Arc<Allowlist>, max_redirects: usize) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(EgressResolver::new(allow.clone())))
        .redirect(redirect_policy(allow.clone(), max_redirects))
        .no_proxy()
}

/// The allowlist's text from the environment: `YTCAPTION_ALLOW_NETWORK`, else its older name
/// `YTCAPTION_WEBHOOK_ALLOWLIST` (`None` when neither is set and not empty).
pub fn allow_network_from_env() -> Option<String> {
    ["YTCAPTION_ALLOW_NETWORK", "YTCAPTION_WEBHOOK_ALLOWLIST"]
        .into_iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "127.0.0.2",
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
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fec0::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
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

    #[test]
    fn allowlist_admits_by_ip_net_and_name() {
        let a: Allowlist = "127.0.0.1, LocalHost., 10.0.0.0/8, [::1]".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(a.admits(None, ip("127.0.0.1")).is_ok());
        assert!(a.admits(None, ip("::ffff:127.0.0.1")).is_ok());
        assert!(a.admits(None, ip("127.0.0.2")).is_err());
        assert!(a.admits(None, ip("10.9.8.7")).is_ok());
        assert!(a.admits(None, ip("::1")).is_ok());
        assert!(a.admits(Some("localhost"), ip("127.0.0.9")).is_ok());
        assert!(a.admits(Some("other"), ip("127.0.0.9")).is_err());
        assert!(a.admits(None, ip("1.1.1.1")).is_ok());
        assert_eq!(a.to_string(), "localhost,127.0.0.1/32,10.0.0.0/8,::1/128");
        for bad in ["10.0.0.0/99", "a b", "http://x/"] {
            assert_eq!(
                bad.parse::<Allowlist>().unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }

    #[test]
    fn literal_urls_and_schemes() {
        let none = Allowlist::default();
        let u = |s: &str| url::Url::parse(s).unwrap();
        for bad in [
            "http://127.0.0.1:6379/",
            "http://2130706433/", // 127.0.0.1 in decimal
            "http://0x7f.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "file:///etc/passwd",
            "ftp://1.1.1.1/x",
        ] {
            assert!(check_url(&none, &u(bad)).is_err(), "{bad}");
        }
        for good in ["https://1.1.1.1/x", "https://example.com/a.mp3"] {
            check_url(&none, &u(good)).unwrap();
        }
        let lo: Allowlist = "127.0.0.1".parse().unwrap();
        check_url(&lo, &u("http://127.0.0.1:6379/")).unwrap();
        check_url(&lo, &u("http://[::ffff:127.0.0.1]:80/")).unwrap();
    }

    #[test]
    fn redirect_hops() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let none = Allowlist::default();
        let lo: Allowlist = "127.0.0.1".parse().unwrap();
        let e = check_hop(&lo, &u("https://a.example/x"), &u("http://127.0.0.1/x")).unwrap_err();
        assert!(e.0.contains("downgrade"), "{e}");
        check_hop(&lo, &u("http://a.example/x"), &u("http://127.0.0.1/x")).unwrap();
        check_hop(&none, &u("https://a.example/x"), &u("https://b.example/x")).unwrap();
        let e = check_hop(
            &none,
            &u("https://a.example/x"),
            &u("https://u:pw@169.254.169.254/?token=t"),
        )
        .unwrap_err();
        assert!(!e.0.contains("pw") && !e.0.contains("=t"), "{e}");
        assert!(check_hop(&none, &u("https://a.example/"), &u("ftp://b.example/")).is_err());
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn resolver_filters_and_refuses() {
        use reqwest::dns::Resolve;
        let none = EgressResolver::default();
        let e = none
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is refused");
        let r = refused_in(&*e).expect("a Refused");
        assert!(
            r.0.contains("localhost resolves to a non-public address"),
            "{r}"
        );
        assert!(!r.0.contains("127.0.0.1"), "the address is not shown: {r}");
        let lo = EgressResolver::new(Arc::new("localhost".parse().unwrap()));
        let addrs: Vec<SocketAddr> = lo
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn webhook_check_refuses_private_unless_allowlisted() {
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
            assert!(!e.to_string().contains("pw@"), "{e}");
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
}
