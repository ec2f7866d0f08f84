//! Where media files live: behind [`MediaStore`], so that an S3-compatible
//! store can take the place of the local directory without the rest of
//! Perch changing. Files are named by Perch (see [`valid_name`]), never by
//! the uploader, and never change once written: a new avatar is a new file.

use std::io;
use std::path::PathBuf;

use futures::future::BoxFuture;

/// A place to keep media files by name.
pub trait MediaStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` as `name`, whole or not at all (a reader never sees
    /// part of a file).
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> BoxFuture<'a, io::Result<()>>;
    /// The file called `name`, if there is one.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>>;
    /// Removes `name`; removing a file that is not there is not an error.
    fn remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, io::Result<()>>;
}

/// Whether `name` is one Perch gives files: lower-case letters, digits and
/// `-_`, one `.` before a supported extension. Checked before any path is
/// made from a name, so no request can reach outside the store.
pub fn valid_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && stem.len() <= 64
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && super::process::SUPPORTED.iter().any(|(_, _, e)| *e == ext)
}

/// Files in a directory (`DATA_DIR/media` by default).
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    /// A store in `dir`, made on the first write.
    pub fn new(dir: PathBuf) -> LocalStore {
        LocalStore { dir }
    }

    fn path(&self, name: &str) -> io::Result<PathBuf> {
        if valid_name(name) {
            Ok(self.dir.join(name))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad media name",
            ))
        }
    }
}

impl MediaStore for LocalStore {
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(name)?;
            tokio::fs::create_dir_all(&self.dir).await?;
            // Written beside, then renamed: a rename is atomic, so a file
            // is either absent or whole.
            let partial = self.dir.join(format!(".{name}.partial"));
            if let Err(e) = tokio::fs::write(&partial, &bytes).await {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(e);
            }
            tokio::fs::rename(&partial, &path).await
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let path = self.path(name)?;
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(name)?;
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_store() {
        assert!(valid_name("123-abc.jpg"));
        assert!(valid_name("123-abc_small.webp"));
        for bad in [
            "../x.jpg", "a/b.png", "x.exe", ".png", "A.png", "x.png/", "x",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
