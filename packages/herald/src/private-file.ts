import { chmodSync, closeSync, constants, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The mode of a data file Herald creates: read and write for its owner only. */
export const PRIVATE_FILE_MODE = 0o600;
/** The mode of a data folder Herald creates: its owner only. */
export const PRIVATE_DIRECTORY_MODE = 0o700;

/**
 * Makes sure the data file `path` exists before a database opens it, creating it, and each missing parent folder,
 * private to the owner: the file {@link PRIVATE_FILE_MODE} (0600), the folders {@link PRIVATE_DIRECTORY_MODE}
 * (0700), whatever the process's umask. A file or folder that exists keeps its mode: this never loosens, and
 * never changes, what an operator set. SQLite gives a database's `-wal`, `-shm` and `-journal` files the mode
 * of the database file, so they are 0600 too. Safe when several processes create the same file at once (one
 * creates it, the others find it). `:memory:` and `''` (SQLite's in-memory and temporary databases) are left
 * alone. Throws the file system's error (`EACCES`, `EEXIST` for a folder that is a file…) when the file cannot be created.
 */
export function ensurePrivateFile(path: string): void {
  if (path === ':memory:' || path === '') return;
  const file = resolve(path);
  const folder = dirname(file);
  const firstCreated = mkdirSync(folder, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  if (firstCreated !== undefined) {
    // mkdir's mode is masked by the umask: set each folder this call created (firstCreated … folder) exactly.
    for (let dir = folder; ; dir = dirname(dir)) {
      chmodSync(dir, PRIVATE_DIRECTORY_MODE);
      if (dir === resolve(firstCreated) || dirname(dir) === dir) break;
    }
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    // open's mode is masked by the umask too.
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}
