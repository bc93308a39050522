/* codegen/layout.c — which automaton states are code, in which function,
 * and which are tables (layout.h). */
#include "layout.h"

#include "dsl.h"

#include <stdlib.h>

int layout__out(const au_state_t* st, int k) { return k < st->nlit ? st->lit[k].to : st->to[k - st->nlit]; }
int layout__nouts(const au_state_t* st) { return st->sink ? 0 : st->nlit + (2 << st->npred); }

static int weight_(const au_state_t* st) {
    if (st->sink) return 1;
    int w = 8 + 2 * st->nlit + st->npred;
    for (int x = 0; x < 2 << st->npred; x++) w += st->to[x] >= 0;
    return w;
}

void layout__free(layout_t* l) {
    free(l->weight), free(l->parent), free(l->chunk), free(l->order), free(l->cstart), free(l->entry), free(l->label);
    free(l->tix), free(l->tab), free(l->gix), free(l->go);
}

void layout__build(const au_t* au, layout_t* l, int code_weight, int chunk_weight, int main_weight) {
    int n = au->nstates;
    *l = (layout_t){ .n = n };
    l->weight = dsl_xcalloc((size_t) n, sizeof *l->weight);
    l->parent = dsl_xcalloc((size_t) n, sizeof *l->parent);
    l->chunk = dsl_xcalloc((size_t) n, sizeof *l->chunk);
    l->order = dsl_xcalloc((size_t) n, sizeof *l->order);
    l->cstart = dsl_xcalloc((size_t) n + 2, sizeof *l->cstart);
    l->entry = dsl_xcalloc((size_t) n, sizeof *l->entry);
    l->label = dsl_xcalloc((size_t) n, sizeof *l->label);
    l->tix = dsl_xcalloc((size_t) n, sizeof *l->tix);
    l->tab = dsl_xcalloc((size_t) n, sizeof *l->tab);
    l->gix = dsl_xcalloc((size_t) n, sizeof *l->gix);
    l->go = dsl_xcalloc((size_t) n, sizeof *l->go);
    for (int s = 0; s < n; s++) {
        l->weight[s] = weight_(&au->st[s]);
        l->parent[s] = -1;
        l->chunk[s] = -1;
        l->tix[s] = -1;
        l->gix[s] = -1;
    }
    for (int s = 0; s < n; s++)
        for (int k = 0; k < layout__nouts(&au->st[s]); k++) {
            int t = layout__out(&au->st[s], k);
            if (t > 0 && l->parent[t] < 0) l->parent[t] = s;
        }
    /* Code: breadth first (the states are numbered so), within the budget;
       a state heavier than a function is a table (a state of thousands of
       literal segments), and the walk of the tables hands back to the code
       of the states below it. */
    bool* code = dsl_xcalloc((size_t) n, sizeof *code);
    int used = 0;
    for (int s = 0; s < n; s++) {
        code[s] = l->weight[s] <= (s ? chunk_weight : main_weight) && used + l->weight[s] <= code_weight;
        if (code[s]) used += l->weight[s];
    }
    /* Functions: top-down tiles of the discovery tree. A function takes a
       subtree breadth first until its weight is spent, then the next
       pending subtree, ...; the subtrees left over wait for the next
       function. PREFIX__match's own function holds state 0's. */
    int* kids = dsl_xcalloc((size_t) n + 1, sizeof *kids); /* children lists by parent, as offsets */
    int* kid = dsl_xcalloc((size_t) n + 1, sizeof *kid);
    for (int s = 1; s < n; s++)
        if (code[s] && code[l->parent[s]]) kids[l->parent[s] + 1]++;
    for (int s = 0; s < n; s++) kids[s + 1] += kids[s];
    int* fill = dsl_xcalloc((size_t) n + 1, sizeof *fill);
    for (int s = 1; s < n; s++)
        if (code[s] && code[l->parent[s]]) kid[kids[l->parent[s]] + fill[l->parent[s]]++] = s;
    free(fill);
    int* pend = dsl_xcalloc((size_t) n + 1, sizeof *pend); /* subtree roots waiting, FIFO */
    int* queue = dsl_xcalloc((size_t) n + 1, sizeof *queue);
    int np = 0, ph = 0, no = 0;
    /* state 0's subtree first (PREFIX__match; empty when state 0 is a
       table), then the code under table states */
    if (n && code[0]) pend[np++] = 0;
    else if (n) l->nchunks = 1;
    for (int s = 1; s < n; s++)
        if (code[s] && !code[l->parent[s]]) pend[np++] = s;
    while (ph < np) {
        int c = l->nchunks++;
        l->cstart[c] = no;
        int w = 0, cap = c ? chunk_weight : main_weight;
        /* subtrees while they fit; a first one always starts; PREFIX__match
           takes state 0's only */
        while (ph < np && (w == 0 || (c > 0 && w + l->weight[pend[ph]] <= cap))) {
            int qh = 0, qt = 0;
            queue[qt++] = pend[ph++];
            while (qh < qt && (w == 0 || w + l->weight[queue[qh]] <= cap)) {
                int s = queue[qh++];
                w += l->weight[s];
                l->chunk[s] = c;
                l->order[no++] = s;
                for (int k = kids[s]; k < kids[s + 1]; k++) queue[qt++] = kid[k];
            }
            while (qh < qt) pend[np++] = queue[qh++];
        }
    }
    l->cstart[l->nchunks] = no;
    free(pend), free(queue), free(kids), free(kid), free(code);
    /* Tables: the states a function leaves code for, and every state they
       lead to but those in code (the walk goes on there through
       PREFIX__go*). Code goes to a table state when its target is no code,
       or is in PREFIX__match's own function (entered once, at state 0). */
    int* work = dsl_xcalloc((size_t) n + 1, sizeof *work);
    int nw = 0;
    bool* in = dsl_xcalloc((size_t) n, sizeof *in);
    if (n && l->chunk[0] < 0) in[0] = true, work[nw++] = 0;
    for (int s = 0; s < n; s++) {
        if (l->chunk[s] < 0) continue;
        for (int k = 0; k < layout__nouts(&au->st[s]); k++) {
            int t = layout__out(&au->st[s], k);
            if (t < 0) continue;
            if (l->chunk[t] == l->chunk[s]) {
                l->label[t] = true;
                continue;
            }
            if (l->chunk[t] > 0) {
                l->entry[t] = t != l->order[l->cstart[l->chunk[t]]];
                continue;
            }
            if (!in[t]) in[t] = true, work[nw++] = t;
        }
    }
    for (int q = 0; q < nw; q++) {
        int s = work[q];
        for (int k = 0; k < layout__nouts(&au->st[s]); k++) {
            int t = layout__out(&au->st[s], k);
            if (t < 0 || in[t]) continue;
            if (l->chunk[t] > 0) { /* back to code */
                if (l->gix[t] < 0) l->gix[t] = l->ngo, l->go[l->ngo++] = t;
                l->entry[t] = t != l->order[l->cstart[l->chunk[t]]];
                continue;
            }
            in[t] = true, work[nw++] = t;
        }
    }
    for (int s = 0; s < n; s++)
        if (in[s]) l->tix[s] = l->ntab, l->tab[l->ntab++] = s;
    free(work), free(in);
}
