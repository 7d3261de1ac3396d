// Fencing with a database: a leader's write lands only if no newer leader has written.
import type { Leadership } from 'zk-election';

/** The shape of a pg-style client; any driver with transactions works the same way. */
interface Db {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
}

// CREATE TABLE fence (resource text PRIMARY KEY, token numeric NOT NULL);
// INSERT INTO fence VALUES ('payments', 0);
export async function chargeDueContracts(db: Db, leadership: Leadership): Promise<void> {
  await db.query('BEGIN');
  try {
    // Lock the fence row, and move it forward to our token unless a newer leader got there first.
    const fenced = await db.query(
      "UPDATE fence SET token = $1 WHERE resource = 'payments' AND token <= $1",
      [leadership.token.toString()],
    );
    if (fenced.rowCount !== 1) throw new Error(`token ${leadership.token} is stale: a newer leader has written`);
    await db.query("UPDATE contracts SET charged_at = now() WHERE due_at <= now() AND charged_at IS NULL");
    // Last local check before committing; the fence above is what makes it safe if this races.
    if (!leadership.isValid()) throw leadership.signal.reason;
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}
