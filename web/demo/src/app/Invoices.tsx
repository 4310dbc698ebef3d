import { useId, useState, type FormEvent } from 'react';
import type { Session } from '../lib/api.ts';
import { firstName, formatMoney, formatTime } from '../lib/format.ts';
import type { Customer, Invoice } from '../lib/types.ts';
import { Card } from '../lib/ui.tsx';

/**
 * The seed's complete example: creating an invoice publishes data:update
 * to the whole tenant, and every open page adds the row. A teammate also
 * gets a notification:new toast.
 */
export function Invoices({ session, tenant, invoices, fresh, onError }: {
  session: Session;
  tenant: { id: string; name: string; currency: string; customers: Customer[] };
  invoices: Invoice[];
  fresh: Set<string>;
  onError: (message: string) => void;
}) {
  const [customer, setCustomer] = useState(tenant.customers[0]?.id ?? '');
  const [amount, setAmount] = useState('1250.00');
  const [busy, setBusy] = useState(false);
  const customerId = useId();
  const amountId = useId();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const cents = Math.round(Number(amount) * 100);
    if (!Number.isFinite(cents) || cents < 1) {
      onError('Enter an amount greater than zero.');
      return;
    }
    setBusy(true);
    try {
      await session.call('POST', '/api/demo/invoices', { customerId: customer, amount: cents });
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card labelId="invoices-title" title="Invoices" subtitle={<>Live for everyone at {tenant.name} via data:update</>}>
      <form className="invoice-form" onSubmit={(e) => void create(e)}>
        <div className="field">
          <label htmlFor={customerId}>Customer</label>
          <select id={customerId} value={customer} onChange={(e) => setCustomer(e.target.value)}>
            {tenant.customers.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-amount">
          <label htmlFor={amountId}>Amount ({tenant.currency})</label>
          <input id={amountId} type="number" inputMode="decimal" min="0.01" max="100000" step="0.01" value={amount} onChange={(e) => setAmount(e.target.value)} required />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Create invoice
        </button>
      </form>
      <div className="table-wrap">
        <table className="invoices" data-testid="invoices">
          <caption className="sr-only">Invoices of {tenant.name}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Customer</th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">Status</th>
              <th scope="col" className="hide-sm">
                Created
              </th>
            </tr>
          </thead>
          <tbody>
            {invoices.map((inv) => (
              <tr key={inv.id} className={fresh.has(inv.id) ? 'fresh' : undefined}>
                <th scope="row">{inv.number}</th>
                <td>{inv.customer.name}</td>
                <td className="num">{formatMoney(inv.total)}</td>
                <td>
                  <span className={`status status-${inv.status}`}>{inv.status === 'paid' ? 'Paid' : 'Open'}</span>
                </td>
                <td className="hide-sm muted">
                  {formatTime(inv.createdAt)} · {firstName(inv.createdBy.name)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
