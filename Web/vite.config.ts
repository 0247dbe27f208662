import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// Served by the gateway under /admin (Gateway/Web/WebApp.cs); `npm run dev` proxies the API to a running gateway.
export default defineConfig({
  base: '/admin/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    proxy: Object.fromEntries(
      ['/auth', '/server', '/settings', '/users', '/ai', '/items', '/collections', '/fields', '/relations', '/files', '/assets']
        .map((p) => [p, process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080'])),
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
