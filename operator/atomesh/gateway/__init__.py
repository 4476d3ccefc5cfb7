"""The LLM gateway's key API behind a port: `protocol.KeyGateway`, the LiteLLM proxy's HTTP client
(`litellm.LiteLLMKeys`) and an in-memory fake that keeps the same request and response shapes."""
