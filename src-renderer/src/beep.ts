/** The sound card's tone generator, made at the first beep and kept (browsers allow only a few at once). */
let context: AudioContext | null = null;

/**
 * A short low tone that says "that scan was not right" to someone looking at the shelf, not the screen. Silent
 * where the browser has no Web Audio or refuses to play (before the page had a user gesture).
 */
export function beep(): void {
  const Context = typeof window === 'undefined' ? undefined : window.AudioContext;
  if (Context === undefined) return;
  try {
    context ??= new Context();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'square';
    oscillator.frequency.value = 330;
    gain.gain.value = 0.08;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.18);
  } catch {
    // No sound is no reason to lose the scan: the flash and the message still say it.
  }
}
