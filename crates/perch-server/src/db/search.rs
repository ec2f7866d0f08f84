//! Account search by name, as `GET /api/v2/search` and
//! `/api/v1/accounts/search` ask it: user names starting with the query,
//! then display names containing it, best first.

use super::{Db, StoreError, on_pool};

/// `text` with LIKE's wildcards and its escape character escaped (`\`).
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ids of the accounts whose user name starts with `query` or whose
/// display name contains it (ignoring ASCII case), an exact user name
/// first, then by followers; only accounts `following_of` follows when
/// given. `limit` from `offset`.
pub async fn accounts(
    db: &Db,
    query: &str,
    following_of: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "SELECT id FROM accounts \
         WHERE (lower(username) LIKE $1 || '%' ESCAPE '\\' \
         OR lower(display_name) LIKE '%' || $1 || '%' ESCAPE '\\') \
         AND ($2 = 0 OR id IN (SELECT followee_id FROM follows WHERE follower_id = $2)) \
         ORDER BY (lower(username) = $3) DESC, followers_count DESC, id ASC \
         LIMIT $4 OFFSET $5";
    let lowered = query.to_lowercase();
    let ids = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(like_escaped(&lowered))
        .bind(following_of.unwrap_or(0))
        .bind(&lowered)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::like_escaped(r"a%b_c\d"), r"a\%b\_c\\d");
    }
}
