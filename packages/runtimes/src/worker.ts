/**
 * The program as a Cloudflare Worker (workerd, without Node compatibility): a POST of the input as JSON dispatches,
 * and the answer is the result as JSON.
 */
import { dispatchOnce, type Input } from "./dispatch.js"

export default {
  fetch: async (request: Request): Promise<Response> => Response.json(await dispatchOnce(await request.json() as Input))
}
