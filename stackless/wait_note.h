/* What a pending future waits on, for the deadlock report. Not for use
 * outside stackless/.
 *
 * A leaf (or a join handle) that returns RT_PENDING notes what it waits on;
 * fut__task_run (task.c) clears the note before each poll and, in RT_DEBUG
 * builds, records it in the task after. The note is the thread's, as the
 * executor is, so noting costs one store and no lock.
 */
#ifndef RT_STACKLESS_WAIT_NOTE_H
#define RT_STACKLESS_WAIT_NOTE_H

/* The last note of this thread's current poll, NULL for none. */
extern _Thread_local const char *fut__wait_note;

/* Notes that the future being polled waits on `what` (a static string). */
static inline void fut__note_wait(const char *what)
{
    fut__wait_note = what;
}

#endif
