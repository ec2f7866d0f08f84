//! Reading single settings: numbers, sizes, host names and URLs, each
//! refused with the setting's name.

use super::ConfigError;

pub(super) fn parse_number(
    text: &str,
    range: std::ops::RangeInclusive<u64>,
    setting: &'static str,
) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError::new(
            setting,
            format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

pub(super) fn validate_domain(domain: &str) -> Result<String, ConfigError> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(domain.to_ascii_lowercase())
    } else {
        Err(ConfigError::new(
            "--domain / PERCH_DOMAIN",
            format!("{domain:?} is not a host name like social.example.com"),
        ))
    }
}

pub(super) fn validate_database_url(url: &str) -> Result<String, ConfigError> {
    let setting = "--database-url / DATABASE_URL";
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if known.iter().any(|p| url.starts_with(p)) {
        Ok(url.to_string())
    } else {
        Err(ConfigError::new(
            setting,
            format!(
                "{:?} is neither sqlite://FILE nor postgres://…",
                redact_url(url)
            ),
        ))
    }
}

pub(super) fn validate_redis_url(url: &str) -> Result<String, ConfigError> {
    let known = ["redis://", "rediss://", "redis+unix://", "unix://"];
    let cluster = ["redis+cluster://", "rediss+cluster://"];
    if known
        .iter()
        .chain(cluster.iter())
        .any(|p| url.starts_with(p))
    {
        Ok(url.to_string())
    } else {
        Err(ConfigError::new(
            "--redis-url / REDIS_URL",
            format!("{:?} is not a redis:// URL", redact_url(url)),
        ))
    }
}

/// Hides the password of a URL so it can be shown in logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***@{}", &url[..scheme_end + 3], user, &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

/// Parses a size the way Redis reads `maxmemory`: a plain number of bytes, or
/// a number with `kb`/`mb`/`gb` (powers of 1024, as Redis uses) or
/// `KiB`/`MiB`/`GiB`, case-insensitive.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}
