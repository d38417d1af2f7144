"""The org tree, people and positions, roles, the sit-in rota, the demo county, org import, accounts and throttles."""
