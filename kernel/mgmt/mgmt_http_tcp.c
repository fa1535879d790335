#include "kernel/mgmt/mgmt_http_tcp.h"

#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/http_conn.h"
#include "kernel/mm/mm.h"

#define POLL_TICKS 2		/* lwIP's coarse timer is 500 ms: look at each connection every second */
#define REFUSED_LOG_MS 10000 /* "connection refused" at most this often */

struct slot {
	struct tcp_pcb *pcb; /* NULL: free */
	struct http_conn *conn;
	bool responding;     /* conn->out is being sent: no input until it is */
	bool close_after;    /* close once the response is handed to TCP */
	bool remote_closed;  /* the client sent FIN */
	bool in_request;     /* bytes of a request arrived, its response has not begun */
	size_t out_off;	     /* bytes of conn->out handed to TCP */
	uint32_t active_ms;  /* the client's last byte, or its last ACK of ours */
	uint32_t request_ms; /* when the request under way began */
};

static struct slot slots[HTTP_MAX_CONNS];
static uint8_t scratch[TCP_WND]; /* a pbuf chain made contiguous: lwIP never hands more than its window */
static uint32_t refused_logged_ms;
static bool refused_logged;

unsigned mgmt_http_open_conns(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < HTTP_MAX_CONNS; i++)
		n += slots[i].pcb != NULL;
	return n;
}

static void release(struct slot *s)
{
	http_conn_close(s->conn);
	s->pcb = NULL;
}

static void detach_callbacks(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL); /* lwIP's default then frees whatever still arrives */
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

/* From inside a callback of s->pcb: its return value is the callback's. */
static err_t conn_abort(struct slot *s)
{
	struct tcp_pcb *pcb = s->pcb;
	detach_callbacks(pcb);
	release(s);
	tcp_abort(pcb);
	return ERR_ABRT;
}

static err_t conn_close(struct slot *s)
{
	struct tcp_pcb *pcb = s->pcb;
	detach_callbacks(pcb);
	release(s);
	if (tcp_close(pcb) != ERR_OK) { /* no memory for the FIN: reset instead of leaking the pcb */
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/*
 * Moves a connection on: starts sending the response `r` asks for (when
 * have_r), hands TCP as much of it as fits, and once all of it is handed
 * over asks http_conn for the next one (a pipelined request). A loop, not
 * recursion: a buffer full of tiny pipelined requests would go deep.
 */
static err_t pump(struct slot *s, bool have_r, enum http_conn_result r)
{
	for (;;) {
		if (!s->responding) {
			if (!have_r || r == HTTP_CONN_MORE) {
				if (s->remote_closed)
					return conn_close(s); /* nothing more can come */
				return ERR_OK;
			}
			s->responding = true;
			s->in_request = false;
			s->close_after = r == HTTP_CONN_RESPOND_CLOSE;
			s->out_off = 0;
		}

		struct http_conn *c = s->conn;
		while (s->out_off < c->out_len) {
			size_t n = c->out_len - s->out_off;
			u16_t room = tcp_sndbuf(s->pcb);
			if (room == 0 || tcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN)
				break; /* the sent callback or the poll goes on */
			if (n > room)
				n = room;
			u8_t flags = TCP_WRITE_FLAG_COPY;
			if (s->out_off + n < c->out_len)
				flags |= TCP_WRITE_FLAG_MORE;
			err_t e = tcp_write(s->pcb, c->out + s->out_off, (u16_t)n, flags);
			if (e == ERR_MEM)
				break; /* lwIP's heap or segment pool is short: later */
			if (e != ERR_OK)
				return conn_abort(s);
			s->out_off += n;
		}
		if (tcp_output(s->pcb) == ERR_ABRT)
			return ERR_ABRT;
		if (s->out_off < c->out_len)
			return ERR_OK;

		s->responding = false;
		if (s->close_after)
			return conn_close(s); /* the FIN follows what is queued */
		r = http_conn_sent(c);
		have_r = true;
	}
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct slot *s = arg;
	if (!s) { /* closing: lwIP's default would do the same */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		s->remote_closed = true;
		if (s->responding)
			return ERR_OK; /* finish the response, then close */
		return conn_close(s);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return ERR_OK;
	}
	if (s->responding)
		return ERR_MEM; /* lwIP keeps the data and offers it again (its fast timer) */
	if (p->tot_len > sizeof(scratch)) {
		pbuf_free(p);
		return conn_abort(s);
	}

	uint16_t n = pbuf_copy_partial(p, scratch, p->tot_len, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	s->active_ms = sys_now();
	if (!s->in_request) {
		s->in_request = true;
		s->request_ms = s->active_ms;
	}
	return pump(s, true, http_conn_input(s->conn, scratch, n));
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	struct slot *s = arg;
	if (!s)
		return ERR_OK;
	s->active_ms = sys_now(); /* the client reads: a long response to a slow reader is not idle */
	if (s->responding)
		return pump(s, false, HTTP_CONN_MORE);
	return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	(void)pcb;
	struct slot *s = arg;
	if (!s)
		return ERR_OK;
	uint32_t now = sys_now();
	/* a client that neither sends nor reads is let go; one slow to send a request too */
	if (now - s->active_ms > HTTP_IDLE_MS)
		return conn_close(s);
	if (s->in_request && now - s->request_ms > HTTP_REQUEST_MS)
		return conn_close(s);
	if (s->responding)
		return pump(s, false, HTTP_CONN_MORE);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	(void)err;
	struct slot *s = arg;
	if (s)
		release(s); /* lwIP has freed the pcb already */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;

	struct slot *s = NULL;
	for (unsigned i = 0; i < HTTP_MAX_CONNS && !s; i++)
		if (!slots[i].pcb && slots[i].conn)
			s = &slots[i];
	uint32_t peer = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
	if (!s || http_conn_open(s->conn, peer) < 0) {
		uint32_t now = sys_now();
		if (!refused_logged || now - refused_logged_ms > REFUSED_LOG_MS) {
			uint32_t a = lwip_ntohl(peer);
			printk("mgmt: connection from %u.%u.%u.%u refused: %s\n", a >> 24, (a >> 16) & 0xff,
			       (a >> 8) & 0xff, a & 0xff, s ? "no memory" : "too many connections");
			refused_logged = true;
			refused_logged_ms = now;
		}
		tcp_abort(pcb);
		return ERR_ABRT;
	}

	s->pcb = pcb;
	s->responding = s->close_after = s->remote_closed = s->in_request = false;
	s->out_off = 0;
	s->active_ms = sys_now();
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, POLL_TICKS);
	tcp_nagle_disable(pcb); /* a response goes out whole, not after the client's delayed ACK */
	return ERR_OK;
}

void mgmt_http_start(uint16_t port, bool have_token)
{
	unsigned conns = 0;
	for (unsigned i = 0; i < HTTP_MAX_CONNS; i++) {
		slots[i].conn = kmalloc(sizeof(struct http_conn));
		conns += slots[i].conn != NULL;
	}
	if (!conns) {
		printk("mgmt: API: no memory for its connections\n");
		return;
	}

	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	err_t e = pcb ? tcp_bind(pcb, IP4_ADDR_ANY, port) : ERR_MEM;
	struct tcp_pcb *lpcb = e == ERR_OK ? tcp_listen_with_backlog_and_err(pcb, HTTP_MAX_CONNS, &e) : NULL;
	if (!lpcb) {
		printk("mgmt: API: cannot listen on port %u (lwIP error %d)\n", port, e);
		if (pcb)
			tcp_close(pcb); /* a failed listen leaves the pcb to us */
		return;
	}
	tcp_accept(lpcb, on_accept);
	if (have_token)
		printk("mgmt: API on port %u\n", port);
	else
		printk("mgmt: API off: no mgmt_token= given\n");
}
