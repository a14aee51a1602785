// GraphiQL for paydesk, started from a file of its own: the page's Content-Security-Policy runs no inline script.
// What GraphiQL keeps (tabs, and the headers with the pasted token) lives in this tab's sessionStorage only: it is
// gone when the tab closes and no other page of the origin reads it.
const ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
const fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: ws });
const defaultQuery = `# Paste your token in the Headers tab below:
#   { "Authorization": "Bearer <token printed by paydesk or made by \`paydesk token\`>" }
query Overview {
  me { id role }
  payoutRequests(first: 10, filter: { status: [PENDING] }) {
    totalCount
    nodes { id amount currency status createdAt wallet { freelancerId balance available } }
  }
  payments(first: 10) { nodes { orderId amount status netAmount paidAt } }
}
`;
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultHeaders: '{\n  "Authorization": "Bearer "\n}',
    shouldPersistHeaders: true,
    storage: window.sessionStorage,
  }),
);
