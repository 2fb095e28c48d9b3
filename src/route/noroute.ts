/**
 * The answer when no route matches (fabio `proxy.noroutestatus` and its `noroute.html`), as data the data plane
 * sends as it is. Pure.
 */

export interface NoRouteAnswer {
  /** HTTP status (fabio's default 404). */
  readonly status: number
  /** HTML page sent as the body ('' = lb's plain-text line naming host and path). */
  readonly html: string
}

/** The configured answer, with a page from Consul KV (`consul.no_route_key`) taking precedence when not ''. */
export function noRouteAnswer(config: { status: number; page: string }, kvPage = ''): NoRouteAnswer {
  return { status: config.status, html: kvPage !== '' ? kvPage : config.page }
}
