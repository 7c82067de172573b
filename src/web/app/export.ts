/** Getting results out of the page: clipboard and file downloads. */

export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started from the object URL by now; revoke it once the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Copies text; where the Clipboard API is refused (permissions, insecure context), selects it for Ctrl+C instead. */
export async function copyText(text: string, fallbackElement: HTMLElement): Promise<'copied' | 'selected'> {
  try {
    await navigator.clipboard.writeText(text);
    return 'copied';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(fallbackElement);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    return 'selected';
  }
}

export function timestampForFilename(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}
