//! Files that appear whole or not at all, with the permissions of an ordinary new file.
//!
//! What Sirenade writes (WAVs, presets, run records, checkpoints, data sets, figures) goes into a
//! temporary file beside its target, is flushed to disk and renamed into place, so neither a
//! reader nor a crash ever sees half a file. `tempfile` creates that file private (0600); the
//! finished file gets what `File::create` would have given it (0666 less the process umask),
//! so renders and presets stay readable by the other programs and users that should read them.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A temporary file in its target's folder that becomes the target on [`AtomicFile::commit`]
/// and vanishes if dropped uncommitted.
pub struct AtomicFile {
    tmp: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file beside `path` (in the current folder for a bare name).
    pub fn new(path: &Path) -> io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Ok(AtomicFile {
            tmp: NamedTempFile::new_in(dir).map_err(|e| in_folder(e, dir))?,
            path: path.to_path_buf(),
        })
    }

    /// The open temporary file, to write into.
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// Gives the file an ordinary new file's permissions, flushes it to disk and renames it
    /// to the target, replacing any file there.
    pub fn commit(self) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = 0o666 & !umask();
            self.file()
                .set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        self.file().sync_all()?;
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// `tempfile`'s error, whose message ends in the temporary file's random name, restated for
/// the folder: the callers name the file they were asked to write.
fn in_folder(e: io::Error, dir: &Path) -> io::Error {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "no such folder".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    let message = format!("cannot create a file in {}: {why}", dir.display());
    io::Error::new(e.kind(), message)
}

/// Writes `bytes` to `path` through an [`AtomicFile`].
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let file = AtomicFile::new(path)?;
    file.file().write_all(bytes)?;
    file.commit()
}

/// The process's file-creation mask, read from `/proc/self/status` (reading it through
/// `umask(2)` would have to set it, racing other threads' file creation); 0o022, the usual
/// default, where that is unavailable.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::{write, AtomicFile};

    #[test]
    fn a_committed_file_is_whole_and_has_an_ordinary_files_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").unwrap();
        write(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The reference: what `File::create` gives a new file in this process.
            let plain = dir.path().join("plain.bin");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&path) & 0o777, mode(&plain) & 0o777);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("never.bin");
        let file = AtomicFile::new(&path).unwrap();
        std::io::Write::write_all(&mut file.file(), b"partial").unwrap();
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(&dir.path().join("no/such/folder/x.bin"), b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let folder = dir.path().join("no/such/folder");
        let expected = format!(
            "cannot create a file in {}: no such folder",
            folder.display()
        );
        assert_eq!(err.to_string(), expected);
    }
}
