import type { Quality } from '../contract/output-size.ts';
import type { RenderInput, RenderJob } from '../engines/engine.ts';
import type { Db } from '../store/db.ts';
import type { ObjectStore } from '../storage/index.ts';
import type { TaskRow } from './task-store.ts';

/**
 * The job an engine makes a task's video from: the stored request, its plan and its probed
 * inputs as local files (the objects themselves on a disk store, else copies in `scratchDir`).
 */
export async function loadRenderJob(db: Db, objects: ObjectStore, task: TaskRow, scratchDir: string): Promise<RenderJob> {
  const rows = await db.selectFrom('task_inputs').selectAll().where('task_id', '=', task.id).execute();
  const inputs: Record<string, RenderInput> = {};
  for (const row of rows) {
    inputs[row.field] = {
      field: row.field,
      url: row.url,
      kind: row.kind,
      container: row.container,
      path: await objects.localFile(row.path, scratchDir),
      width: row.width,
      height: row.height,
      durationSec: row.duration_ms === null ? null : row.duration_ms / 1000,
      hasAudio: row.has_audio === 1,
    };
  }
  return {
    taskId: task.id,
    model: task.model,
    quality: task.quality as Quality,
    seed: task.seed,
    params: JSON.parse(task.params_json),
    output: { width: task.output_width, height: task.output_height, fps: task.output_fps, durationSec: task.output_duration_ms / 1000 },
    inputs,
  };
}
