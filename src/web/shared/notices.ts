import { element } from './dom.js';

/** Adds a dismissable message to a page's notice area (errors are announced as alerts). */
export function showNotice(container: HTMLElement, kind: 'error' | 'warning' | 'info', text: string): HTMLElement {
  const note = element('p', { class: `notice ${kind}`, ...(kind === 'error' ? { role: 'alert' } : {}) }, [text]);
  const dismiss = element('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss this message' }, ['×']);
  dismiss.addEventListener('click', () => note.remove());
  note.appendChild(dismiss);
  container.appendChild(note);
  return note;
}
