//! What each virtual user asks for next, per workload.
//!
//! `profile` and `timeline` are anonymous reads. `home` (and `home-sql`,
//! the same load) is a uniformly drawn user reading its home timeline, 95 %,
//! or posting, 5 %. `mixed` is every request authenticated, as a uniformly
//! drawn user: 90 % reads (30 % home timeline, the route a Mastodon server
//! serves most, 25 % profile, 15 % public timeline, 10 % an account's
//! statuses, 10 % followers) and 10 % writes (3.5 % new statuses, 3.5 % follows and unfollows, 3 % favourites
//! and unfavourites). Writes come in pairs: a virtual user that followed or
//! liked takes it back on its next write of that kind, so the data set stays
//! about the same size however long the run. Posting is spread over every
//! account; in process the server's limit of 10 posts a minute per user is
//! raised (`server`), against `--url` its 429s are reported apart.

use rand::RngExt;
use rand::rngs::StdRng;

use super::options::Workload;
use super::seed::{Dataset, status_text};
use super::zipf::Zipf;

/// The routes, as reported (one latency histogram each).
pub mod route {
    /// `GET /api/v1/accounts/:id`.
    pub const PROFILE: &str = "GET /api/v1/accounts/:id";
    /// `GET /api/v1/timelines/public`.
    pub const TIMELINE: &str = "GET /api/v1/timelines/public";
    /// `GET /api/v1/timelines/home`.
    pub const HOME: &str = "GET /api/v1/timelines/home";
    /// `GET /api/v1/accounts/:id/statuses`.
    pub const STATUSES: &str = "GET /api/v1/accounts/:id/statuses";
    /// `GET /api/v1/accounts/:id/followers`.
    pub const FOLLOWERS: &str = "GET /api/v1/accounts/:id/followers";
    /// `POST /api/v1/statuses`.
    pub const POST: &str = "POST /api/v1/statuses";
    /// `POST /api/v1/accounts/:id/follow`.
    pub const FOLLOW: &str = "POST /api/v1/accounts/:id/follow";
    /// `POST /api/v1/accounts/:id/unfollow`.
    pub const UNFOLLOW: &str = "POST /api/v1/accounts/:id/unfollow";
    /// `POST /api/v1/statuses/:id/favourite`.
    pub const FAVOURITE: &str = "POST /api/v1/statuses/:id/favourite";
    /// `POST /api/v1/statuses/:id/unfavourite`.
    pub const UNFAVOURITE: &str = "POST /api/v1/statuses/:id/unfavourite";
}

/// One request to make.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The route, for the report.
    pub route: &'static str,
    /// Whether it is a POST (else a GET).
    pub post: bool,
    /// Path and query.
    pub path: String,
    /// The index of the user whose token to send, if any.
    pub user: Option<usize>,
    /// A JSON body, for POSTs that take one.
    pub body: Option<serde_json::Value>,
}

/// The draws shared by every virtual user.
#[derive(Debug)]
pub struct Chooser {
    data: Dataset,
    popular_accounts: Zipf,
    popular_statuses: Zipf,
}

/// What one virtual user remembers between requests.
#[derive(Debug, Default)]
pub struct VirtualUser {
    /// A follow it made, to take back next: (follower, followee) indexes.
    followed: Option<(usize, usize)>,
    /// A favourite it gave, to take back next: (account, status) indexes.
    liked: Option<(usize, usize)>,
    /// Statuses it posted (numbers the texts).
    posted: usize,
}

impl Chooser {
    /// Draws over `data`, Zipf(1.0) for popularity.
    pub fn new(data: Dataset) -> Chooser {
        Chooser {
            popular_accounts: Zipf::new(data.accounts.len(), 1.0),
            popular_statuses: Zipf::new(data.statuses.len(), 1.0),
            data,
        }
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The token of user `i`.
    pub fn token(&self, i: usize) -> Option<&str> {
        self.data.tokens.get(i).map(String::as_str)
    }

    fn popular_account(&self, rng: &mut StdRng) -> usize {
        self.popular_accounts.sample(rng)
    }

    fn any_user(&self, rng: &mut StdRng) -> usize {
        rng.random_range(0..self.data.accounts.len())
    }

    fn get(&self, route: &'static str, path: String, user: Option<usize>) -> Planned {
        Planned {
            route,
            post: false,
            path,
            user,
            body: None,
        }
    }

    fn post(&self, route: &'static str, path: String, user: usize) -> Planned {
        Planned {
            route,
            post: true,
            path,
            user: Some(user),
            body: None,
        }
    }

    /// The next request of a virtual user in `workload`.
    pub fn next(&self, workload: Workload, rng: &mut StdRng, me: &mut VirtualUser) -> Planned {
        match workload {
            Workload::Profile => {
                let id = self.data.accounts[self.popular_account(rng)];
                self.get(route::PROFILE, format!("/api/v1/accounts/{id}"), None)
            }
            Workload::Timeline => {
                self.get(route::TIMELINE, "/api/v1/timelines/public".into(), None)
            }
            Workload::Home | Workload::HomeSql => {
                let user = self.any_user(rng);
                match rng.random_range(0..100u32) {
                    0..95 => self.home(user),
                    _ => self.new_status(rng, me, user),
                }
            }
            Workload::Mixed => self.mixed(rng, me),
        }
    }

    fn home(&self, user: usize) -> Planned {
        self.get(route::HOME, "/api/v1/timelines/home".into(), Some(user))
    }

    fn new_status(&self, rng: &mut StdRng, me: &mut VirtualUser, user: usize) -> Planned {
        me.posted += 1;
        let text = status_text(rng, me.posted);
        let mut p = self.post(route::POST, "/api/v1/statuses".into(), user);
        p.body = Some(serde_json::json!({ "status": text, "visibility": "public" }));
        p
    }

    fn mixed(&self, rng: &mut StdRng, me: &mut VirtualUser) -> Planned {
        let user = self.any_user(rng);
        let roll = rng.random_range(0..1000u32);
        let accounts = &self.data.accounts;
        match roll {
            0..300 => self.home(user),
            300..550 => {
                let id = accounts[self.popular_account(rng)];
                self.get(route::PROFILE, format!("/api/v1/accounts/{id}"), Some(user))
            }
            550..700 => self.get(
                route::TIMELINE,
                "/api/v1/timelines/public".into(),
                Some(user),
            ),
            700..800 => {
                let id = accounts[self.popular_account(rng)];
                let path = format!("/api/v1/accounts/{id}/statuses");
                self.get(route::STATUSES, path, Some(user))
            }
            800..900 => {
                let id = accounts[self.popular_account(rng)];
                let path = format!("/api/v1/accounts/{id}/followers");
                self.get(route::FOLLOWERS, path, Some(user))
            }
            900..935 => self.new_status(rng, me, user),
            935..970 => match me.followed.take() {
                Some((follower, followee)) => {
                    let path = format!("/api/v1/accounts/{}/unfollow", accounts[followee]);
                    self.post(route::UNFOLLOW, path, follower)
                }
                None => {
                    let mut followee = self.popular_account(rng);
                    if followee == user {
                        followee = (followee + 1) % accounts.len();
                    }
                    me.followed = Some((user, followee));
                    let path = format!("/api/v1/accounts/{}/follow", accounts[followee]);
                    self.post(route::FOLLOW, path, user)
                }
            },
            _ => match me.liked.take() {
                Some((liker, status)) => {
                    let id = self.data.statuses[status];
                    let path = format!("/api/v1/statuses/{id}/unfavourite");
                    self.post(route::UNFAVOURITE, path, liker)
                }
                None => {
                    let status = self.popular_statuses.sample(rng);
                    me.liked = Some((user, status));
                    let id = self.data.statuses[status];
                    let path = format!("/api/v1/statuses/{id}/favourite");
                    self.post(route::FAVOURITE, path, user)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn data() -> Dataset {
        Dataset {
            accounts: (1..=50).collect(),
            tokens: (1..=50).map(|i| format!("t{i}")).collect(),
            statuses: (100..200).collect(),
            follows: 0,
            favourites: 0,
        }
    }

    #[test]
    fn mixed_is_one_write_in_ten_and_always_authenticated() {
        let chooser = Chooser::new(data());
        let mut rng = StdRng::seed_from_u64(3);
        let mut me = VirtualUser::default();
        let n = 20_000;
        let mut writes = 0;
        for _ in 0..n {
            let p = chooser.next(Workload::Mixed, &mut rng, &mut me);
            assert!(p.user.is_some());
            writes += usize::from(p.post);
        }
        let share = writes as f64 / f64::from(n);
        assert!((share - 0.10).abs() < 0.01, "{share}");
    }

    #[test]
    fn a_follow_is_taken_back_by_the_same_user() {
        let chooser = Chooser::new(data());
        let mut rng = StdRng::seed_from_u64(5);
        let mut me = VirtualUser::default();
        let mut last_follow: Option<(usize, String)> = None;
        for _ in 0..5_000 {
            let p = chooser.next(Workload::Mixed, &mut rng, &mut me);
            if p.route == route::FOLLOW {
                assert!(last_follow.is_none());
                last_follow = Some((p.user.unwrap_or(0), p.path.replace("/follow", "")));
            } else if p.route == route::UNFOLLOW {
                let (user, target) = last_follow.take().expect("a follow came first");
                assert_eq!(Some(user), p.user);
                assert_eq!(target, p.path.replace("/unfollow", ""));
            }
        }
    }
}
