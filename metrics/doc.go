// Package metrics exposes Slipway's Prometheus metrics, named after the
// conventions of Argo CD (argocd_app_info, argocd_app_sync_total) and
// Flux (gotk_reconcile_duration_seconds):
//
//	slipway_webhook_requests_total{forge,code}          webhooks received, by forge and answer
//	slipway_build_duration_seconds{result}              solves, by result (histogram)
//	slipway_deploy_duration_seconds{kind,result}        deploys, by kind and outcome (histogram)
//	slipway_env_info{repo,env,commit,health,target}     1 per environment (the read model)
//	slipway_consumer_pending_messages{consumer}         messages a durable consumer has not delivered yet
//	slipway_consumer_ack_pending_messages{consumer}     messages delivered and not acknowledged yet
//	slipway_dead_letters                                messages waiting in the dead-letter stream
//
// It guarantees bounded label cardinality: forges, codes, results, kinds
// and consumers come from fixed sets; a commit SHA is a label only of
// slipway_env_info, one series per environment. Counters count what this
// process did (a republished result is not counted again); the gauges are
// read from JetStream and the read model at each scrape.
package metrics
