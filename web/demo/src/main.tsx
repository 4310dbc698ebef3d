import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { Dashboard } from './dashboard/Dashboard.tsx';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
const dashboard = location.pathname.replace(/\/+$/, '') === '/dashboard';
document.title = dashboard ? 'ssehub · operations' : 'ssehub demo';
createRoot(root).render(<StrictMode>{dashboard ? <Dashboard /> : <App />}</StrictMode>);
