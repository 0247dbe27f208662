import { createRouter, createWebHistory } from 'vue-router';
import { me, session } from './api/client';

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [
    { path: '/', redirect: '/content' },
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    { path: '/settings/ai', component: () => import('./views/SettingsAiView.vue'), meta: { admin: true } },
    { path: '/content', component: () => import('./views/ContentView.vue') },
    { path: '/content/:collection', component: () => import('./views/ContentView.vue') },
    { path: '/content/:collection/:id', component: () => import('./views/ContentView.vue') },
    { path: '/:rest(.*)*', component: () => import('./views/NotFoundView.vue') },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!session.tokens) return { path: '/login', query: { redirect: to.fullPath } };
  const user = await me().catch(() => null);
  if (!user) return { path: '/login', query: { redirect: to.fullPath } };
  if (to.meta.admin && !user.admin_access) return '/content';
  return true;
});
