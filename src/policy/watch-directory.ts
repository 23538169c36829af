/**
 * Calls back once a directory has been quiet for a moment after any change in it. Watching the
 * directory rather than each file catches editors that save by writing a new file and renaming it
 * over the old one, and mounted volumes that swap a symlink; the callback must be safe to run
 * when nothing relevant changed (a reload of an unchanged set does nothing).
 */
import { type FSWatcher, watch } from 'node:fs';

export interface DirectoryWatch {
  close(): void;
}

export function watchDirectory(options: {
  readonly directory: string;
  readonly onChange: () => void;
  readonly onError: (error: Error) => void;
  /** Quiet time before calling back, so one save (often several events) gives one call. */
  readonly debounceMs?: number;
}): DirectoryWatch {
  const { directory, onChange, onError, debounceMs = 200 } = options;
  let timer: NodeJS.Timeout | undefined;
  // Not persistent: watching must never be what keeps a stopping gateway alive.
  const watcher: FSWatcher = watch(directory, { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs).unref();
  });
  watcher.on('error', onError);
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
