// Package portal is the customer-facing side of outhook: an http.Handler
// that an application mounts (say at /settings/webhooks) to give each of
// its customers a webhooks page and a JSON API over the Dispatcher, scoped
// to that customer's tenant.
//
//	p, err := portal.New(dispatcher, &portal.Config{
//		BasePath:   "/settings/webhooks",
//		SessionKey: key, // 32+ random bytes, the same in every instance
//		Tenant: func(r *http.Request) (string, error) {
//			return myapp.AccountID(r) // your own authentication
//		},
//	})
//	mux.Handle("/settings/webhooks/", p)
//
// Who a request belongs to is the application's business: Config.Tenant
// maps a request to a tenant ID, or a portal link minted server-side with
// NewSessionURL signs its holder in to one tenant for a while, so the page
// can be embedded or opened from an email without any auth code. One
// tenant never sees or changes another's endpoints, deliveries or
// attempts: every lookup goes through the tenant's scope, and another
// tenant's ID reads as not found.
//
// The JSON API lives under BasePath+"/api/"; its OpenAPI 3.1 document is
// served at BasePath+"/api/openapi.json". Errors are RFC 9457
// application/problem+json. No response carries a signing secret except
// the one that creates an endpoint and the one that rotates its secret.
// The page at BasePath+"/" is server-rendered HTML with no external
// assets, styled through CSS variables so it fits the host application.
package portal
