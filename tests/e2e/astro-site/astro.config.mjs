// A preview session's Astro dev server, as a platform runs one per session: served under the
// session's prefix (SG_BASE, e.g. /session/t1/) behind sessiongate.
import { defineConfig } from 'astro/config';

export default defineConfig({
  base: process.env.SG_BASE ?? '/',
  devToolbar: { enabled: false },
  vite: { server: { allowedHosts: true } },
});
