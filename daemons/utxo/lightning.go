package utxo

import (
	"context"
	"encoding/json"

	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// Lightning argument lists (Electrum 4.6's, in order), accepted so that a
// call fails with -32011 rather than a parameter error.
type (
	lnPeerArgs struct {
		ConnectionString json.RawMessage `rpc:"connection_string"`
		Timeout          json.RawMessage `rpc:"timeout"`
		Gossip           json.RawMessage `rpc:"gossip"`
	}
	lnListPeersArgs struct {
		Gossip json.RawMessage `rpc:"gossip"`
	}
	lnOpenArgs struct {
		ConnectionString json.RawMessage `rpc:"connection_string"`
		Amount           json.RawMessage `rpc:"amount"`
		PushAmount       json.RawMessage `rpc:"push_amount"`
		Public           json.RawMessage `rpc:"public"`
		Zeroconf         json.RawMessage `rpc:"zeroconf"`
		Password         json.RawMessage `rpc:"password"`
	}
	lnCloseArgs struct {
		ChannelPoint json.RawMessage `rpc:"channel_point"`
		Force        json.RawMessage `rpc:"force"`
		Password     json.RawMessage `rpc:"password"`
	}
	lnPayArgs struct {
		Invoice  json.RawMessage `rpc:"invoice"`
		Timeout  json.RawMessage `rpc:"timeout"`
		Password json.RawMessage `rpc:"password"`
	}
	lnHoldInvoiceArgs struct {
		PaymentHash             json.RawMessage `rpc:"payment_hash"`
		Amount                  json.RawMessage `rpc:"amount"`
		Memo                    json.RawMessage `rpc:"memo"`
		Expiry                  json.RawMessage `rpc:"expiry"`
		MinFinalCLTVExpiryDelta json.RawMessage `rpc:"min_final_cltv_expiry_delta"`
	}
	lnPreimageArgs struct {
		Preimage json.RawMessage `rpc:"preimage"`
	}
	lnPaymentHashArgs struct {
		PaymentHash json.RawMessage `rpc:"payment_hash"`
	}
	lnSettleArgs struct {
		B json.RawMessage `rpc:"b"`
	}
	lnForceCloseArgs struct {
		ChannelPoint     json.RawMessage `rpc:"channel_point"`
		ConnectionString json.RawMessage `rpc:"connection_string"`
		Password         json.RawMessage `rpc:"password"`
	}
	lnChannelPasswordArgs struct {
		ChannelPoint json.RawMessage `rpc:"channel_point"`
		Password     json.RawMessage `rpc:"password"`
	}
	lnImportBackupArgs struct {
		Encrypted json.RawMessage `rpc:"encrypted"`
	}
	lnChannelCtxArgs struct {
		ChannelPoint     json.RawMessage `rpc:"channel_point"`
		Password         json.RawMessage `rpc:"password"`
		IKnowWhatImDoing json.RawMessage `rpc:"iknowwhatimdoing"`
	}
	lnChannelPointArgs struct {
		ChannelPoint json.RawMessage `rpc:"channel_point"`
	}
	lnRebalanceArgs struct {
		FromSCID json.RawMessage `rpc:"from_scid"`
		DestSCID json.RawMessage `rpc:"dest_scid"`
		Amount   json.RawMessage `rpc:"amount"`
		Password json.RawMessage `rpc:"password"`
	}
	lnNormalSwapArgs struct {
		OnchainAmount   json.RawMessage `rpc:"onchain_amount"`
		LightningAmount json.RawMessage `rpc:"lightning_amount"`
		Password        json.RawMessage `rpc:"password"`
	}
	lnReverseSwapArgs struct {
		LightningAmount json.RawMessage `rpc:"lightning_amount"`
		OnchainAmount   json.RawMessage `rpc:"onchain_amount"`
		Password        json.RawMessage `rpc:"password"`
	}
	lnOnionMessageArgs struct {
		NodeIDOrBlindedPathHex json.RawMessage `rpc:"node_id_or_blinded_path_hex"`
		Message                json.RawMessage `rpc:"message"`
	}
	lnBlindedPathArgs struct {
		NodeID    json.RawMessage `rpc:"node_id"`
		DummyHops json.RawMessage `rpc:"dummy_hops"`
	}
)

func lnUnsupported[A any](context.Context, *base.Call, A) (any, error) {
	return nil, base.Errorf(spec.LightningUnsupp, "Lightning not supported in this wallet type")
}

// lightningMethods declares Electrum 4.6's lightning commands, every one
// failing with -32011 while walletd has no lightning.
func lightningMethods(b *base.Builder) {
	ln := func(sig string) string { return sig + lnHelpText }
	b.Add(base.NewMethod("nodeid", ln("nodeid(): the lightning node id."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("add_peer", ln("add_peer(connection_string, timeout, gossip): connects to a lightning peer."), lnUnsupported[lnPeerArgs]))
	b.Add(base.NewMethod("list_peers", ln("list_peers(gossip): the lightning peers."), lnUnsupported[lnListPeersArgs]))
	b.Add(base.NewMethod("gossip_info", ln("gossip_info(): lightning gossip state."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("open_channel", ln("open_channel(connection_string, amount, push_amount, public, zeroconf, password): opens a lightning channel."), lnUnsupported[lnOpenArgs]))
	b.Add(base.NewMethod("close_channel", ln("close_channel(channel_point, force, password): closes a lightning channel."), lnUnsupported[lnCloseArgs]))
	b.Add(base.NewMethod("request_force_close", ln("request_force_close(channel_point, connection_string, password): asks the peer to force-close a channel."), lnUnsupported[lnForceCloseArgs]))
	b.Add(base.NewMethod("list_channels", ln("list_channels(): the lightning channels."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("lnpay", ln("lnpay(invoice, timeout, password): pays a lightning invoice."), lnUnsupported[lnPayArgs]))
	b.Add(base.NewMethod("lightning_history", ln("lightning_history(): lightning payments."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("add_hold_invoice", ln("add_hold_invoice(payment_hash, amount, memo, expiry, min_final_cltv_expiry_delta): creates a hold invoice."), lnUnsupported[lnHoldInvoiceArgs]))
	b.Add(base.NewMethod("settle_hold_invoice", ln("settle_hold_invoice(preimage): settles a hold invoice."), lnUnsupported[lnPreimageArgs]))
	b.Add(base.NewMethod("cancel_hold_invoice", ln("cancel_hold_invoice(payment_hash): cancels a hold invoice."), lnUnsupported[lnPaymentHashArgs]))
	b.Add(base.NewMethod("check_hold_invoice", ln("check_hold_invoice(payment_hash): the state of a hold invoice."), lnUnsupported[lnPaymentHashArgs]))
	b.Add(base.NewMethod("enable_htlc_settle", ln("enable_htlc_settle(b): enables or disables HTLC settlement."), lnUnsupported[lnSettleArgs]))
	b.Add(base.NewMethod("clear_ln_blacklist", ln("clear_ln_blacklist(): clears the lightning blacklist."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("reset_liquidity_hints", ln("reset_liquidity_hints(): resets lightning liquidity hints."), lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("export_channel_backup", ln("export_channel_backup(channel_point, password): a channel backup."), lnUnsupported[lnChannelPasswordArgs]))
	b.Add(base.NewMethod("import_channel_backup", ln("import_channel_backup(encrypted): imports a channel backup."), lnUnsupported[lnImportBackupArgs]))
	b.Add(base.NewMethod("get_channel_ctx", ln("get_channel_ctx(channel_point, password, iknowwhatimdoing): a channel's commitment transaction."), lnUnsupported[lnChannelCtxArgs]))
	b.Add(base.NewMethod("get_watchtower_ctn", ln("get_watchtower_ctn(channel_point): a channel's watchtower state."), lnUnsupported[lnChannelPointArgs]))
	b.Add(base.NewMethod("rebalance_channels", ln("rebalance_channels(from_scid, dest_scid, amount, password): moves funds between channels."), lnUnsupported[lnRebalanceArgs]))
	b.Add(base.NewMethod("normal_swap", ln("normal_swap(onchain_amount, lightning_amount, password): an on-chain to lightning swap."), lnUnsupported[lnNormalSwapArgs]))
	b.Add(base.NewMethod("reverse_swap", ln("reverse_swap(lightning_amount, onchain_amount, password): a lightning to on-chain swap."), lnUnsupported[lnReverseSwapArgs]))
	b.Add(base.NewMethod("send_onion_message", ln("send_onion_message(node_id_or_blinded_path_hex, message): sends an onion message."), lnUnsupported[lnOnionMessageArgs]))
	b.Add(base.NewMethod("get_blinded_path_via", ln("get_blinded_path_via(node_id, dummy_hops): a blinded path through a node."), lnUnsupported[lnBlindedPathArgs]))
}
