"""Live updates over WebSocket (graphql-transport-ws), served by Channels."""
