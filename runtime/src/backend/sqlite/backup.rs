//! A copy of the database file before a change, through SQLite's online backup API, so
//! the copy is consistent even while other connections read.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use libsqlite3_sys as ffi;

use crate::error::{Error, Result};

/// Copies `path` to `<path>.<UTC timestamp>.bak` (in `dir` when given, else beside it) and
/// returns the copy's path.
pub(super) fn copy_aside(path: &Path, dir: Option<&Path>) -> Result<PathBuf> {
    let stamp = crate::backend::dump::stamp();
    let target = match (dir, path.file_name()) {
        (Some(dir), Some(name)) => dir.join(format!("{}.{stamp}.bak", name.to_string_lossy())),
        _ => PathBuf::from(format!("{}.{stamp}.bak", path.display())),
    };
    let fail = |message: String| Error::Database {
        context: format!("cannot back up {} to {}", path.display(), target.display()),
        source: message.into(),
    };
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    let src = CString::new(path.to_string_lossy().as_bytes()).map_err(|e| fail(e.to_string()))?;
    let dst = CString::new(target.to_string_lossy().as_bytes()).map_err(|e| fail(e.to_string()))?;
    // SAFETY: plain use of the C API: every handle opened here is closed on every path,
    // and the backup object is finished before its connections are closed.
    unsafe {
        let mut source = std::ptr::null_mut();
        let mut dest = std::ptr::null_mut();
        let close = |s: *mut ffi::sqlite3, d: *mut ffi::sqlite3| {
            ffi::sqlite3_close(s);
            ffi::sqlite3_close(d);
        };
        if ffi::sqlite3_open_v2(
            src.as_ptr(),
            &mut source,
            ffi::SQLITE_OPEN_READONLY,
            std::ptr::null(),
        ) != ffi::SQLITE_OK
        {
            close(source, dest);
            return Err(fail("cannot open the source".into()));
        }
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE;
        if ffi::sqlite3_open_v2(dst.as_ptr(), &mut dest, flags, std::ptr::null()) != ffi::SQLITE_OK
        {
            close(source, dest);
            return Err(fail("cannot create the backup file".into()));
        }
        let main = c"main";
        let backup = ffi::sqlite3_backup_init(dest, main.as_ptr(), source, main.as_ptr());
        if backup.is_null() {
            close(source, dest);
            return Err(fail("sqlite3_backup_init failed".into()));
        }
        let step = ffi::sqlite3_backup_step(backup, -1);
        let finish = ffi::sqlite3_backup_finish(backup);
        close(source, dest);
        if step != ffi::SQLITE_DONE || finish != ffi::SQLITE_OK {
            return Err(fail(format!(
                "backup step returned {step}, finish {finish}"
            )));
        }
    }
    Ok(target)
}
