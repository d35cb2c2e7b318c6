/*
 * es_lua.c - the rule for loading a Redis function library (es_lua.h).
 *
 * Kept apart from the two loaders (the module's asynchronous one and the
 * workers' blocking one) so that both decide the same way.
 */
#include "es_lua.h"

es_lua_plan es_lua_plan_for(long have, const es_lua_lib *lib)
{
    if (have < lib->version) {
        return ES_LUA_LOAD;
    }
    return have == lib->version ? ES_LUA_SAME : ES_LUA_NEWER;
}
