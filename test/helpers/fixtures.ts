import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** ffmpeg arguments (after -y) for each fixture; small sizes keep generation fast. */
const RECIPES: Record<string, string[]> = {
  'image-640x360.png': ['-f', 'lavfi', '-i', 'testsrc2=s=640x360', '-frames:v', '1'],
  'image-360x640.jpg': ['-f', 'lavfi', '-i', 'testsrc2=s=360x640', '-frames:v', '1'],
  'image-400x400.bmp': ['-f', 'lavfi', '-i', 'testsrc2=s=400x400', '-frames:v', '1'],
  'image-800x600.webp': ['-f', 'lavfi', '-i', 'testsrc2=s=800x600', '-frames:v', '1'],
  'image-alpha-400x400.png': ['-f', 'lavfi', '-i', 'color=c=red@0.5:s=400x400,format=rgba', '-frames:v', '1'],
  'image-200x200.png': ['-f', 'lavfi', '-i', 'testsrc2=s=200x200', '-frames:v', '1'],
  'image-2700x300.png': ['-f', 'lavfi', '-i', 'testsrc2=s=2700x300', '-frames:v', '1'],
  'image-1000x300.jpg': ['-f', 'lavfi', '-i', 'testsrc2=s=1000x300', '-frames:v', '1'],
  'image-640x640.gif': ['-f', 'lavfi', '-i', 'testsrc2=s=640x640', '-frames:v', '1'],
  'clip-5s-640x360.mp4': clip(5, '640x360', 30),
  'clip-4s-480x640.mov': clip(4, '480x640', 30),
  'clip-1s-640x360.mp4': clip(1, '640x360', 30),
  'clip-12s-320x240.mp4': clip(12, '320x240', 10),
  'clip-20s-640x360.mp4': clip(20, '640x360', 10),
  'clip-4s-5fps-640x360.mp4': clip(4, '640x360', 5),
  'clip-4s-400x300.mp4': clip(4, '400x300', 24),
  'clip-8s-400x300.mp4': clip(8, '400x300', 24),
  'clip-3s-silent-640x360.mp4': ['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  'clip-3s-640x360.webm': ['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=3', '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '200k'],
  'audio-3s.wav': ['-f', 'lavfi', '-i', 'sine=f=440:d=3'],
  'audio-4s.mp3': ['-f', 'lavfi', '-i', 'sine=f=440:d=4', '-c:a', 'libmp3lame'],
  'audio-1s.wav': ['-f', 'lavfi', '-i', 'sine=f=440:d=1'],
  'audio-3s.ogg': ['-f', 'lavfi', '-i', 'sine=f=440:d=3', '-c:a', 'libvorbis'],
};

function clip(seconds: number, size: string, fps: number): string[] {
  return [
    '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=${fps}:d=${seconds}`,
    '-f', 'lavfi', '-i', `sine=f=330:d=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
  ];
}

export type FixtureName = keyof typeof RECIPES;

/** A folder holding every fixture, made once per machine with real ffmpeg. */
export function fixturesDir(): string {
  const dir = path.join(tmpdir(), 'vidgate-fixtures-v1');
  mkdirSync(dir, { recursive: true });
  for (const [name, args] of Object.entries(RECIPES)) {
    const file = path.join(dir, name);
    if (existsSync(file)) continue;
    const partial = path.join(dir, `partial-${process.pid}-${name}`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, '-f', formatOf(name), partial]);
    execFileSync('mv', [partial, file]);
  }
  const junk = path.join(dir, 'random-21MB.bin');
  if (!existsSync(junk)) writeFileSync(junk, Buffer.alloc(21 * 1024 * 1024, 7));
  const text = path.join(dir, 'not-media.txt');
  if (!existsSync(text)) writeFileSync(text, 'hello, this is not a video\n'.repeat(100));
  return dir;
}

function formatOf(name: string): string {
  const ext = path.extname(name).slice(1);
  return ({ png: 'image2', jpg: 'image2', bmp: 'image2', webp: 'image2', gif: 'gif', mov: 'mov', mp4: 'mp4', webm: 'webm', wav: 'wav', mp3: 'mp3', ogg: 'ogg' } as Record<string, string>)[ext];
}
