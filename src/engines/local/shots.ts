/** One stretch of a text-to-video preview between two cuts. */
export type Shot = { start: number; end: number; text: string };

// "Shot 1 [0-3s] a fox runs", also "Shot 2 [3s-5s]:" and "镜头2 [3-5秒]".
const SHOT = /(?:shot|镜头)\s*(\d+)\s*[[(（【]\s*(\d+(?:\.\d+)?)\s*(?:s|秒)?\s*[-–~至]\s*(\d+(?:\.\d+)?)\s*(?:s|秒)?\s*[\])）】]\s*[:：,，.-]?\s*/giu;

/**
 * Splits a prompt into timed shots, cutting at each shot's start; without timed shots the
 * whole prompt is one shot. Shots are clamped to `duration`; the first always starts at 0.
 */
export function parseShots(prompt: string, duration: number): Shot[] {
  const marks = [...prompt.matchAll(SHOT)];
  if (marks.length === 0) return [{ start: 0, end: duration, text: prompt.trim() }];
  const found = marks.map((mark, i) => ({
    start: Number(mark[2]),
    text: prompt.slice(mark.index + mark[0].length, marks[i + 1]?.index ?? prompt.length).trim(),
  }));
  found.sort((a, b) => a.start - b.start);
  const shots: Shot[] = [];
  for (const shot of found) {
    const start = shots.length === 0 ? 0 : Math.min(shot.start, duration);
    const previous = shots.at(-1);
    if (previous && start <= previous.start) {
      previous.text = `${previous.text} ${shot.text}`.trim();
      continue;
    }
    if (previous) previous.end = start;
    shots.push({ start, end: duration, text: shot.text });
  }
  return shots.filter((shot) => shot.end > shot.start);
}
